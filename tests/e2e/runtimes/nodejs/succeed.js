// Legacy context.succeed(result).
'use strict';
exports.handler = (event, context) => {
  context.succeed({ via: 'succeed' });
};
