/** Path parameter schemas shared by the routes that name a connection. */

/** `{connection}`: a connection's name, as the API paths take it. */
export const CONNECTION_NAME = { type: 'string', minLength: 1, maxLength: 256 } as const;

/** Params of routes whose only path parameter is `{connection}`. */
export const connectionParams = {
  type: 'object',
  properties: { connection: CONNECTION_NAME },
  required: ['connection'],
} as const;
