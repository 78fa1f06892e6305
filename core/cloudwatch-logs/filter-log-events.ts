/**
 * The one CloudWatch Logs call the logs source makes, narrowed to what it uses: the shape of
 * `@aws-sdk/client-cloudwatch-logs` FilterLogEventsCommand, so the SDK client plugs in behind an
 * adapter and tests use a hand-written fake.
 *
 * Published quota (https://docs.aws.amazon.com/general/latest/gr/cwl_region.html, "FilterLogEvents":
 * 5 transactions per second per account per Region, adjustable): the check's AWS API declaration puts
 * it in the rate limiter, and throttling (ThrottlingException) is retried by the SDK's retry strategy.
 * A response holds up to 10,000 events or 1 MB, and may be empty while a nextToken says more follow.
 */
export interface FilterLogEventsRequest {
  readonly logGroupName: string;
  /** Inclusive, ms since the epoch. */
  readonly startTime: number;
  /** Exclusive here (AWS treats endTime as inclusive; the reader asks for endMs − 1). */
  readonly endTime: number;
  readonly nextToken?: string;
  readonly limit?: number;
}

export interface FilteredLogEvent {
  readonly eventId: string;
  readonly timestamp: number;
  readonly ingestionTime?: number;
  readonly logStreamName: string;
  readonly message: string;
}

export interface FilterLogEventsResponse {
  readonly events: readonly FilteredLogEvent[];
  readonly nextToken?: string;
}

export interface FilterLogEventsPort {
  filterLogEvents(request: FilterLogEventsRequest): Promise<FilterLogEventsResponse>;
}
