// Legacy context.fail(error).
'use strict';
exports.handler = (event, context) => {
  context.fail(new Error('boom'));
};
