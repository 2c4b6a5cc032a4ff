// Hono environment: what middleware puts on the context for handlers.
import type { Principal, Services } from "../control/context.ts";

export interface AppEnv {
  Variables: {
    requestId: string;
    principal: Principal;
    services: Services;
  };
}
