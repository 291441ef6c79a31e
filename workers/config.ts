/** The deployment's configuration, parsed once per isolate rather than on every request. */
import { type Config, readConfig } from "../domain/config";
import { setLogLevel } from "../platform/log";

const cache = new WeakMap<object, Config>();

export function configOf(env: Env): Config {
  let config = cache.get(env);
  if (config === undefined) {
    config = readConfig(env);
    setLogLevel(config.logLevel);
    cache.set(env, config);
  }
  return config;
}
