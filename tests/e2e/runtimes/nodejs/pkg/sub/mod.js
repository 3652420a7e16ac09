// A handler below the code root: `pkg/sub/mod.handler`.
'use strict';
exports.handler = async () => ({ nested: true });
