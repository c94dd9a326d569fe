// The driver of the linalg attention numeric test: deterministic q, k, v
// (sin((101 h + 37 i + d) * seed)), the call, the printed output.
func.func private @printMemrefF32(tensor<*xf32>)
func.func @make(%seed: f32) -> tensor<2x128x16xf32> {
  %e = tensor.empty() : tensor<2x128x16xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(h, i, d) -> (h, i, d)>], iterator_types = ["parallel", "parallel", "parallel"]} outs(%e : tensor<2x128x16xf32>) {
  ^bb0(%o: f32):
    %h = linalg.index 0 : index
    %i = linalg.index 1 : index
    %d = linalg.index 2 : index
    %c = arith.constant 37 : index
    %c2 = arith.constant 101 : index
    %t0 = arith.muli %h, %c2 : index
    %t1 = arith.muli %i, %c : index
    %t2 = arith.addi %t0, %t1 : index
    %t3 = arith.addi %t2, %d : index
    %ii = arith.index_cast %t3 : index to i32
    %x = arith.sitofp %ii : i32 to f32
    %y = arith.mulf %x, %seed : f32
    %s = math.sin %y : f32
    linalg.yield %s : f32
  } -> tensor<2x128x16xf32>
  return %r : tensor<2x128x16xf32>
}
func.func @main() {
  %a = arith.constant 0.731 : f32
  %b = arith.constant 1.377 : f32
  %c = arith.constant 0.291 : f32
  %q = func.call @make(%a) : (f32) -> tensor<2x128x16xf32>
  %k = func.call @make(%b) : (f32) -> tensor<2x128x16xf32>
  %v = func.call @make(%c) : (f32) -> tensor<2x128x16xf32>
  %o = func.call @attention(%q, %k, %v) : (tensor<2x128x16xf32>, tensor<2x128x16xf32>, tensor<2x128x16xf32>) -> tensor<2x128x16xf32>
  %u = tensor.cast %o : tensor<2x128x16xf32> to tensor<*xf32>
  func.call @printMemrefF32(%u) : (tensor<*xf32>) -> ()
  return
}
