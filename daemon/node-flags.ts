/**
 * V8 flags the hub runs with wherever it is deployed (the Pi's systemd unit and the bundle's
 * launcher pass them; bench/hub-broker measures the hub started with them). A 1 MB young-generation
 * semi-space instead of V8's 16 MB: an idle hub's resident memory falls by ~12 MB (98.6 → 86.6 MB,
 * `npm run bench -- hub-broker`), which matters on a 512 MB Pi Zero 2 W. The hub allocates little per
 * message, so the more frequent minor collections cost it next to nothing.
 */
export const HUB_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];
