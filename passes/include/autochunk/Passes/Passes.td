//===- Passes.td - AutoChunk pass definitions --------------*- tablegen -*-===//
//
// Every AutoChunk pass, declared once; chunk-opt and the pipelines register
// them from here.
//
//===----------------------------------------------------------------------===//

#ifndef AUTOCHUNK_PASSES_TD
#define AUTOCHUNK_PASSES_TD

include "mlir/Pass/PassBase.td"

def GraphSummaryPass : Pass<"autochunk-graph-summary", "mlir::ModuleOp"> {
  let summary = "Prints what the pipeline knows about each graph function";
  let description = [{
    For every function of graph ops, prints its inputs, weights and outputs
    (count, shapes, bytes), the ops by kind, the FLOPs of its contractions
    (matmul, einsum, linear: two per multiply-add), the sum of all
    intermediate tensor sizes, and the peak of a naive liveness walk in
    program order: each result is allocated when its op runs and freed after
    its last use, with no in-place reuse or aliasing, inputs and weights not
    counted. The later memory planner improves on that peak; this pass only
    reports. The module is left unchanged.
  }];
}

#endif // AUTOCHUNK_PASSES_TD
