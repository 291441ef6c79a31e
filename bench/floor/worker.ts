/** The floor: nothing built on the platform can do less per request than one RPC and one storage operation. */
import { DurableObject } from "cloudflare:workers";

interface FloorEnv {
  FLOOR: DurableObjectNamespace<FloorObject>;
  /**
   * "true": each write also sets an alarm 4 s out, as Tessera's write does to guard its outbox. Not the floor: a
   * reference that shows what one alarm per write costs (bench:cpu --floor-alarm).
   */
  FLOOR_ALARM?: string;
}

export class FloorObject extends DurableObject<FloorEnv> {
  async write(body: string): Promise<number> {
    await this.ctx.storage.put("value", body);
    if (this.env.FLOOR_ALARM === "true") await this.ctx.storage.setAlarm(Date.now() + 4_000);
    return body.length;
  }

  override async alarm(): Promise<void> {}

  async read(): Promise<string | undefined> {
    return this.ctx.storage.get<string>("value");
  }
}

export default {
  async fetch(request, env) {
    const id = new URL(request.url).pathname.split("/")[2] ?? "";
    // The Durable Object that owns this key.
    const owner = env.FLOOR.get(env.FLOOR.idFromName(id));
    if (request.method === "PUT") {
      await owner.write(await request.text());
      return new Response(null, { status: 204 });
    }
    const value = await owner.read();
    return value === undefined ? new Response("not found", { status: 404 }) : new Response(value);
  },
} satisfies ExportedHandler<FloorEnv>;
