// Init error case: not valid JavaScript (Runtime.UserCodeSyntaxError).
'use strict';
exports.handler = async (event) => {
  return { broken: event.x ;
};
