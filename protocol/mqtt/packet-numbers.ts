// mqtt-packet, the encoder under both MQTT.js and aedes, builds a table of 65,536 two-byte
// Buffers (one per packet id and length) when it writes its first packet, unless told not
// to: about 6 MB of heap in every process that speaks MQTT, the agent on a 512 MB Pi
// included, to save a two-byte allocation per packet. The setting is per process and
// must come before the first packet. MQTT.js makes it for its clients (`writeCache:
// false`, link.ts); aedes has no such option, so the embedded broker calls this.
import mqttPacket from 'mqtt-packet';

export function withoutNumberCache(): void {
  if (mqttPacket.writeToStream.cacheNumbers) mqttPacket.writeToStream.cacheNumbers = false;
}
