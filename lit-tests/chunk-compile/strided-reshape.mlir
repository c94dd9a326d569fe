// A reshape that merges non-contiguous dimensions of a slice has no strided
// view: bufferization copies (memref.copy), and the runtime's memrefCopy
// does the copy, so the executable needs no MLIR runner library.
// RUN: chunk-compile %s --compile-to=bufferized -o - | FileCheck %s
// RUN: chunk-compile %s -o %t.exe | FileCheck %s --check-prefix=BYTES
// RUN: rm -rf %t.in %t.out && mkdir -p %t.in
// RUN: %python -c "import numpy as np; np.save('%t.in/x.npy', (np.arange(24, dtype=np.float32) / 10).reshape(4, 6))"
// RUN: %t.exe --inputs %t.in --outputs %t.out --report %t.json
// RUN: %python -c "import numpy as np, json; x = np.load('%t.in/x.npy'); y = np.load('%t.out/y.npy'); assert np.allclose(y, np.exp(x[:, :4].reshape(16)), rtol=1e-6), y; r = json.load(open('%t.json')); assert r['planned_activation_bytes'] == r['measured_activation_bytes'] == 128, r; print('ok')" | FileCheck %s --check-prefix=NUMPY

// CHECK: %[[COPY:.*]] = memref.alloc() {{.*}} : memref<4x4xf32>
// CHECK: memref.copy %{{.*}}, %[[COPY]] : memref<4x4xf32, strided<[6, 1]>> to memref<4x4xf32>
// CHECK: memref.collapse_shape %[[COPY]] {{\[\[}}0, 1]] : memref<4x4xf32> into memref<16xf32>
// BYTES: planned activation bytes: 128
// NUMPY: ok
func.func @f(%x: tensor<4x6xf32> {graph.name = "x", graph.role = "input"}) -> (tensor<16xf32> {graph.name = "y"}) {
  %0 = graph.slice %x {starts = array<i64: 0, 0>, limits = array<i64: 4, 4>} : (tensor<4x6xf32>) -> tensor<4x4xf32>
  %1 = graph.reshape %0 : (tensor<4x4xf32>) -> tensor<16xf32>
  %2 = graph.exp %1 : tensor<16xf32>
  return %2 : tensor<16xf32>
}
