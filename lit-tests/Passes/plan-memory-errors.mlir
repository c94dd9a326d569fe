// RUN: chunk-opt --split-input-file --verify-diagnostics --pass-pipeline="builtin.module(func.func(autochunk-plan-memory))" %s

// expected-error @below {{must be bufferized before memory planning, but returns 'tensor<4xf32>'}}
func.func @not_bufferized(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}

// -----

func.func @dynamic(%n: index) -> memref<?xf32> {
  // expected-error @below {{has a dynamic size; the memory planner needs static shapes}}
  %a = memref.alloc(%n) : memref<?xf32>
  return %a : memref<?xf32>
}
