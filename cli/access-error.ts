/** A failure of configuration, transport or authentication: exit code 3. */
export class AccessError extends Error {
  override name = 'AccessError';
}
