/**
 * Admission control under a slow projector: `npx tsx bench/admission.ts [--delay-ms=N --bound-ms=N --clients=N
 * --burst=S --drain=S]`. The experiment is in bench/chaos/admission.ts (type-checked with the chaos harness, which
 * runs it as `--admission` too).
 */
import { admissionDemo } from "./chaos/admission";

await admissionDemo();
