/** The floor: nothing built on the platform can do less per request than one RPC and one storage operation. */
import { DurableObject } from "cloudflare:workers";

interface FloorEnv {
  FLOOR: DurableObjectNamespace<FloorObject>;
  /**
   * "true": each write also sets an alarm 4 s out, as Tessera's write does to guard its outbox. Not the floor: a
   * reference that shows what one alarm per write costs (bench:cpu --floor-alarm).
   */
  FLOOR_ALARM?: string;
  /**
   * Bound by bench/floor-queue/wrangler.toml only: each write also sends one event message after its commit, as
   * Tessera's outbox does, and the consumer acks it. Not the floor: the pipeline floor, what emitting one event per
   * write costs before anything consumes it.
   */
  EVENTS?: Queue;
}

export class FloorObject extends DurableObject<FloorEnv> {
  private version = 0;

  async write(body: string, id = ""): Promise<number> {
    await this.ctx.storage.put("value", body);
    if (this.env.FLOOR_ALARM === "true") await this.ctx.storage.setAlarm(Date.now() + 4_000);
    const events = this.env.EVENTS;
    if (events !== undefined) {
      this.version += 1;
      // Sent once the write is answered, without making the client wait, as Tessera's outbox sends.
      void events
        .send({ id, version: this.version, data: body }, { contentType: "json" })
        .catch((error: unknown) => console.error(`floor+queue: send failed: ${String(error)}`));
    }
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
      await owner.write(await request.text(), id);
      return new Response(null, { status: 204 });
    }
    const value = await owner.read();
    return value === undefined ? new Response("not found", { status: 404 }) : new Response(value);
  },
  // Only the floor+queue configuration has a consumer: it takes every message and does nothing with it.
  async queue(batch) {
    batch.ackAll();
  },
} satisfies ExportedHandler<FloorEnv>;
