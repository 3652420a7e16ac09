// Init error case: the module requires a package that is not there (Runtime.ImportModuleError).
'use strict';
require('wick-no-such-package');

exports.handler = async () => 'unreachable';
