// An ES module handler (esm.handler), async.
export const handler = async () => ({ via: 'esm' });
