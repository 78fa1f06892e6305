/** Longest delay a Node timer can hold, in whole seconds (2^31-1 ms ≈ 24.8 days). */
export const MAX_TIMER_SECONDS = 2_147_483;
