// The page registry's members: each module registers its routes with page(). New capabilities
// (sandboxes, policies, approvals, providers, webhooks) add one module and one line here.
import "./auth.js";
import "./home.js";
import "./gateways.js";
import "./catalog.js";
import "./audit.js";
import "./users.js";
import "./service-principals.js";
import "./groups.js";
import "./gateway-roles.js";
import "./sandboxes.js";
import "./policy.js";
import "./approvals.js";
import "./providers.js";
import "./webhooks.js";
