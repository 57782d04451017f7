// deck.gl 9.4.0's mesh-layers bundle subclasses luma.gl's glTF animation classes while it
// loads, but the core bundle does not put them on the global `luma`; geo-layers (which the
// CARTO module needs) in turn subclasses mesh-layers' SimpleMeshLayer while it loads. The
// preview draws no glTF models, so empty stand-ins let both bundles load. Runs after
// deck-core.js and before deck-mesh-layers.js.
for (const name of [
  'AnimationClip',
  'AnimationClipController',
  'AnimationMixer',
  'AnimationTrack',
  'Animator',
]) {
  globalThis.luma[name] ??= class {};
}
