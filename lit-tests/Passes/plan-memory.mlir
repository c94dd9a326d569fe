// RUN: chunk-opt --split-input-file --pass-pipeline="builtin.module(func.func(autochunk-test-print-memory-plan))" %s -o /dev/null | FileCheck %s --check-prefix=PLAN
// RUN: chunk-opt --split-input-file --pass-pipeline="builtin.module(func.func(autochunk-plan-memory))" %s | FileCheck %s

// A chain: positions (pre-order, the function is 0) 1 alloc A, 2 exp A,
// 3 alloc B, 4 neg A->B, 5 alloc C, 6 relu B->C, 7 return C.
// A dies at 4 and C starts at 5, so C reuses A's bytes; B overlaps both.
// PLAN-LABEL: memory plan for @chain
// PLAN-NEXT:  buffer memref<16xf32>: 64 bytes at offset 0, live [1, 4]
// PLAN-NEXT:  buffer memref<16xf32>: 64 bytes at offset 64, live [3, 6]
// PLAN-NEXT:  buffer memref<16xf32>: 64 bytes at offset 0, live [5, 7] output
// PLAN-NEXT:  arena: 128 bytes

// CHECK-LABEL: func.func @chain
// CHECK-SAME: (%[[X:.*]]: memref<16xf32>, %[[ARENA:.*]]: memref<128xi8> {autochunk.arena})
// CHECK-SAME: attributes {autochunk.arena_bytes = 128 : i64, autochunk.outputs = [{name = "y", offset = 0 : i64, type = memref<16xf32>}]}
// CHECK: %[[A:.*]] = memref.view %[[ARENA]][%{{.*}}][] : memref<128xi8> to memref<16xf32>
// CHECK: kernel.call "exp" ins(%[[X]] : memref<16xf32>) outs(%[[A]] : memref<16xf32>)
// CHECK-NOT: memref.alloc
// CHECK: return{{$}}
func.func @chain(%x: memref<16xf32>) -> (memref<16xf32> {graph.name = "y"}) {
  %a = memref.alloc() : memref<16xf32>
  kernel.call "exp" ins(%x : memref<16xf32>) outs(%a : memref<16xf32>)
  %b = memref.alloc() : memref<16xf32>
  kernel.call "neg" ins(%a : memref<16xf32>) outs(%b : memref<16xf32>)
  %c = memref.alloc() : memref<16xf32>
  kernel.call "relu" ins(%b : memref<16xf32>) outs(%c : memref<16xf32>)
  return %c : memref<16xf32>
}

// -----

// A loop: the full result lives across the loop; the per-chunk buffer is
// allocated inside the body and reused by every iteration; the input view of
// the full buffer taken inside the loop keeps it alive to the loop's end.
// Positions: 1 alloc FULL, 2-4 constants, 5 scf.for, 6 subview, 7 alloc T,
// 8 exp, 9 subview, 10 copy, 11 yield, 12 return.
// PLAN-LABEL: memory plan for @loop
// PLAN-NEXT:  buffer memref<64xf32>: 256 bytes at offset 0, live [1, 12] output
// PLAN-NEXT:  buffer memref<16xf32>: 64 bytes at offset 256, live [7, 10]
// PLAN-NEXT:  arena: 320 bytes
func.func @loop(%x: memref<64xf32>) -> memref<64xf32> {
  %full = memref.alloc() : memref<64xf32>
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 64 : index
  scf.for %i = %c0 to %c64 step %c16 {
    %in = memref.subview %x[%i] [16] [1] : memref<64xf32> to memref<16xf32, strided<[1], offset: ?>>
    %t = memref.alloc() : memref<16xf32>
    kernel.call "exp" ins(%in : memref<16xf32, strided<[1], offset: ?>>) outs(%t : memref<16xf32>)
    %out = memref.subview %full[%i] [16] [1] : memref<64xf32> to memref<16xf32, strided<[1], offset: ?>>
    kernel.call "copy" ins(%t : memref<16xf32>) outs(%out : memref<16xf32, strided<[1], offset: ?>>)
  }
  return %full : memref<64xf32>
}

// -----

// A returned function argument gets its own arena buffer and a copy.
// CHECK-LABEL: func.func @passthrough
// CHECK: %[[V:.*]] = memref.view
// CHECK: kernel.call "copy" ins(%arg0 : memref<4xf32>) outs(%[[V]] : memref<4xf32>)
func.func @passthrough(%x: memref<4xf32>) -> memref<4xf32> {
  return %x : memref<4xf32>
}

