import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/**
 * The Datadog Agent's rule for a secret backend executable on Linux and macOS (its
 * comp/core/secrets check_rights_nix.go): the file must exist and be executable by this process, and
 * neither group nor others may have any right on it (mode 700 or stricter); with
 * `secret_backend_command_allow_group_exec_perm`, the group may read and execute it (750) but still
 * not write it. A backend others can change could hand dogwatch any value for any secret, or run
 * anything with its credentials. On Windows the Agent checks ACLs instead; dogwatch does not check there.
 *
 * Returns undefined when the file may run, else what is wrong and how to fix it.
 */
export function secretBackendPermissionProblem(
  command: string,
  allowGroupExec: boolean,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (process.platform === 'win32') return undefined;
  const path = resolveOnPath(command, env);
  if (path === undefined)
    return `cannot find the secret backend command ${JSON.stringify(command)} on PATH — give its full path`;
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (error) {
    return `cannot read the secret backend command ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`;
  }
  const octal = (mode & 0o777).toString(8).padStart(3, '0');
  const forbidden = allowGroupExec ? 0o027 : 0o077;
  if ((mode & forbidden) !== 0) {
    const who = allowGroupExec
      ? "'others' have rights on it or 'group' may write it"
      : "'group' or 'others' have rights on it";
    return (
      `refusing to run the secret backend command ${path}: ${who} (mode ${octal}), as the Datadog Agent ` +
      `refuses it — fix: chmod ${allowGroupExec ? '750' : '700'} ${path}` +
      (allowGroupExec ? '' : ' (or 750 with secret_backend_command_allow_group_exec_perm: true)')
    );
  }
  try {
    accessSync(path, constants.X_OK);
  } catch {
    return `the secret backend command ${path} is not executable by this user (mode ${octal}) — fix: chmod u+x ${path}`;
  }
  return undefined;
}

/** The file a command name runs, as execvp finds it: a path as is, a bare name on PATH. */
function resolveOnPath(command: string, env: NodeJS.ProcessEnv): string | undefined {
  if (command.includes('/')) return command;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '' || !isAbsolute(dir)) continue;
    const candidate = join(dir, command);
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}
