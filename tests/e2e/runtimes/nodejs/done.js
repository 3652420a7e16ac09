// Legacy context.done(err, result).
'use strict';
exports.handler = (event, context) => {
  context.done(null, { via: 'done' });
};
