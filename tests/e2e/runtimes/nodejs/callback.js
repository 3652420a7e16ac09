// Callback-style handler: the result goes through callback(null, result).
'use strict';
exports.handler = (event, context, callback) => {
  callback(null, { via: 'callback' });
};
