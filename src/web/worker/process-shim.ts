/**
 * A `process` for the library's Node-leaning file readers inside the worker bundle (esbuild
 * injects it where the code names `process`): a pid for temporary names, a platform, an empty
 * environment and a stderr that drops what it is given (nothing there reaches a user in a page).
 */
export const process = {
  pid: 1,
  platform: 'browser',
  env: {} as Record<string, string | undefined>,
  versions: {} as Record<string, string>,
  stderr: { write: (_chunk: unknown, ..._rest: unknown[]): boolean => true, isTTY: false },
  stdout: { write: (_chunk: unknown, ..._rest: unknown[]): boolean => true, isTTY: false },
};
