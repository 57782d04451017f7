// deck.gl 9.4.0's browser bundles were built against different luma.gl versions, and the core
// bundle's global `luma` lacks parts the others read while they load or draw. Runs after
// deck-core.js and before deck-mesh-layers.js.
//
// The mesh-layers bundle subclasses luma.gl's glTF animation classes while it loads, and
// geo-layers (which the CARTO module needs) in turn subclasses mesh-layers' SimpleMeshLayer.
// The preview draws no glTF models, so empty stand-ins let both bundles load.
for (const name of [
  'AnimationClip',
  'AnimationClipController',
  'AnimationMixer',
  'AnimationTrack',
  'Animator',
]) {
  globalThis.luma[name] ??= class {};
}

// The layers bundle's ColumnLayer (under the CARTO module's RasterTileLayer) packs its cell
// geometry into one interleaved buffer with `makeInterleavedGeometry`, which the core bundle's
// luma.gl does not have. Packing only saves buffers: its models draw the same geometry as it is.
globalThis.luma.makeInterleavedGeometry ??= (geometry) => geometry;
