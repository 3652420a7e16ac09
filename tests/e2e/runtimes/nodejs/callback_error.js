// Callback-style handler that reports an error through callback(err).
'use strict';
exports.handler = (event, context, callback) => {
  callback(new Error('cb-boom'));
};
