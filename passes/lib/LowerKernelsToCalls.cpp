//===- LowerKernelsToCalls.cpp - kernel.call to runtime C calls -----------===//
//
// The last step before LLVM: each kernel.call on memrefs becomes a call of a
// runtime C function (runtime/include/autochunk/runtime/mlir_abi.h lists
// them), with the kernel's parameters as scalar arguments.
//
//===----------------------------------------------------------------------===//

#include "autochunk/Dialect/Kernel/KernelDialect.h"
#include "autochunk/Passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"

#include "llvm/ADT/StringExtras.h"

namespace autochunk {
#define GEN_PASS_DEF_LOWERKERNELSTOCALLSPASS
#include "autochunk/Passes/Passes.h.inc"
} // namespace autochunk

using namespace mlir;
using namespace autochunk;

namespace {

/// "f32", "f16" or "bf16": the suffix of the runtime entry point.
FailureOr<StringRef> dtypeSuffix(Type elementType) {
  if (elementType.isF32())
    return StringRef("f32");
  if (elementType.isF16())
    return StringRef("f16");
  if (elementType.isBF16())
    return StringRef("bf16");
  return failure();
}

class KernelCallLowering {
public:
  KernelCallLowering(ModuleOp module)
      : module(module), symbols(module), builder(module.getContext()) {}

  LogicalResult lower(kernel::CallOp call) {
    if (call.getOutputs().empty())
      return call.emitOpError("has no output");
    auto outputType = dyn_cast<MemRefType>(call.getOutputs()[0].getType());
    if (!outputType)
      return call.emitOpError("must be bufferized before lowering to calls");
    FailureOr<StringRef> suffix = dtypeSuffix(outputType.getElementType());
    if (failed(suffix))
      return call.emitOpError("has an unsupported element type ")
             << outputType.getElementType();

    Location loc = call.getLoc();
    builder.setInsertionPoint(call);
    auto scope = memref::AllocaScopeOp::create(builder, loc, TypeRange{});
    Block *body = builder.createBlock(&scope.getBodyRegion());
    builder.setInsertionPointToStart(body);

    SmallVector<Value> arguments;
    for (Value operand :
         llvm::concat<Value>(call.getInputs(), call.getOutputs())) {
      if (auto memref = dyn_cast<MemRefType>(operand.getType())) {
        auto unranked = UnrankedMemRefType::get(memref.getElementType(),
                                                memref.getMemorySpace());
        arguments.push_back(
            memref::CastOp::create(builder, loc, unranked, operand));
      } else {
        arguments.push_back(operand);
      }
    }
    StringRef kernelName = call.getKernel();
    // einsum always passes two operands; one-operand equations repeat it.
    if (kernelName == "einsum" && call.getInputs().size() == 1)
      arguments.insert(arguments.begin() + 1, arguments.front());
    if (failed(appendParams(call, arguments)))
      return failure();

    std::string callee = ("ac_kernel_" + kernelName + "_" + *suffix).str();
    func::FuncOp declaration = declare(callee, arguments, loc);
    func::CallOp::create(builder, loc, declaration, arguments);
    memref::AllocaScopeReturnOp::create(builder, loc, ValueRange{});
    call.erase();
    return success();
  }

private:
  Value i64(Location loc, int64_t value) {
    return arith::ConstantIntOp::create(builder, loc, value, 64);
  }

  LogicalResult appendParams(kernel::CallOp call,
                             SmallVectorImpl<Value> &arguments) {
    Location loc = call.getLoc();
    DictionaryAttr params = call.getParams();
    StringRef name = call.getKernel();
    auto getInt = [&](StringRef key) -> FailureOr<int64_t> {
      if (auto attr = params.getAs<IntegerAttr>(key))
        return attr.getInt();
      if (auto attr = params.getAs<BoolAttr>(key))
        return static_cast<int64_t>(attr.getValue());
      return call.emitOpError("needs an integer parameter '") << key << "'";
    };
    auto getFloat = [&](StringRef key) -> FailureOr<double> {
      if (auto attr = params.getAs<FloatAttr>(key))
        return attr.getValueAsDouble();
      return call.emitOpError("needs a float parameter '") << key << "'";
    };
    auto getArray = [&](StringRef key) -> FailureOr<ArrayRef<int64_t>> {
      if (auto attr = params.getAs<DenseI64ArrayAttr>(key))
        return attr.asArrayRef();
      return call.emitOpError("needs an array parameter '") << key << "'";
    };

    if (name == "gelu" || name == "linear_gelu") {
      auto approximate = params.getAs<StringAttr>("approximate");
      arguments.push_back(
          i64(loc, approximate && approximate.getValue() == "tanh"));
    } else if (name == "scale") {
      FailureOr<double> factor = getFloat("factor");
      if (failed(factor))
        return failure();
      arguments.push_back(arith::ConstantFloatOp::create(
          builder, loc, builder.getF64Type(), APFloat(*factor)));
    } else if (name == "matmul") {
      for (StringRef key : {"transpose_a", "transpose_b"}) {
        FailureOr<int64_t> flag = getInt(key);
        if (failed(flag))
          return failure();
        arguments.push_back(i64(loc, *flag));
      }
    } else if (name == "einsum") {
      auto equation = params.getAs<StringAttr>("equation");
      if (!equation)
        return call.emitOpError("needs an 'equation' parameter");
      arguments.push_back(equationGlobal(equation.getValue(), loc));
    } else if (name == "softmax") {
      FailureOr<int64_t> axis = getInt("axis");
      if (failed(axis))
        return failure();
      arguments.push_back(i64(loc, *axis));
    } else if (name == "layer_norm") {
      FailureOr<int64_t> axis = getInt("axis");
      FailureOr<double> epsilon = getFloat("epsilon");
      if (failed(axis) || failed(epsilon))
        return failure();
      arguments.push_back(i64(loc, *axis));
      arguments.push_back(arith::ConstantFloatOp::create(
          builder, loc, builder.getF64Type(), APFloat(*epsilon)));
    } else if (name.starts_with("reduce_")) {
      FailureOr<ArrayRef<int64_t>> axes = getArray("axes");
      FailureOr<int64_t> keepDims = getInt("keep_dims");
      if (failed(axes) || failed(keepDims))
        return failure();
      int64_t mask = 0;
      for (int64_t axis : *axes)
        mask |= int64_t(1) << axis;
      arguments.push_back(i64(loc, mask));
      arguments.push_back(i64(loc, *keepDims));
    } else if (name == "transpose") {
      FailureOr<ArrayRef<int64_t>> permutation = getArray("permutation");
      if (failed(permutation))
        return failure();
      if (permutation->size() > 16)
        return call.emitOpError("supports at most rank 16");
      int64_t packed = 0;
      for (auto [index, source] : llvm::enumerate(*permutation))
        packed |= source << (4 * index);
      arguments.push_back(i64(loc, packed));
    } else if (name == "causal_mask") {
      FailureOr<int64_t> diagonal = getInt("diagonal");
      if (failed(diagonal))
        return failure();
      arguments.push_back(i64(loc, *diagonal));
    } else if (name == "attention" || name == "scale_mask_softmax") {
      // One signature tail: the logits' factor, then the mask and the bias.
      FailureOr<double> factor =
          getFloat(name == "attention" ? "scale" : "factor");
      if (failed(factor))
        return failure();
      arguments.push_back(arith::ConstantFloatOp::create(
          builder, loc, builder.getF64Type(), APFloat(*factor)));
      for (StringRef key : {"causal", "diagonal", "has_bias"}) {
        FailureOr<int64_t> value = getInt(key);
        if (failed(value))
          return failure();
        arguments.push_back(i64(loc, *value));
      }
    }
    return success();
  }

  /// A NUL-terminated i8 global holding `equation`, passed as an unranked
  /// memref.
  Value equationGlobal(StringRef equation, Location loc) {
    std::string symbol = "__ac_einsum_" + llvm::toHex(equation, true);
    for (char &c : symbol)
      if (!llvm::isAlnum(c))
        c = '_';
    auto type = MemRefType::get({static_cast<int64_t>(equation.size() + 1)},
                                builder.getI8Type());
    if (!symbols.lookup(symbol)) {
      OpBuilder::InsertionGuard guard(builder);
      builder.setInsertionPointToStart(module.getBody());
      SmallVector<int8_t> bytes(equation.begin(), equation.end());
      bytes.push_back(0);
      auto tensorType =
          RankedTensorType::get(type.getShape(), builder.getI8Type());
      auto global = memref::GlobalOp::create(
          builder, loc, symbol, builder.getStringAttr("private"), type,
          DenseElementsAttr::get(tensorType, ArrayRef<int8_t>(bytes)),
          /*constant=*/true, /*alignment=*/IntegerAttr());
      symbols.insert(global);
    }
    Value buffer = memref::GetGlobalOp::create(builder, loc, type, symbol);
    return memref::CastOp::create(
        builder, loc, UnrankedMemRefType::get(builder.getI8Type(), 0), buffer);
  }

  func::FuncOp declare(StringRef name, ValueRange arguments, Location loc) {
    if (auto existing = symbols.lookup<func::FuncOp>(name))
      return existing;
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToEnd(module.getBody());
    auto type = builder.getFunctionType(TypeRange(arguments), {});
    auto declaration = func::FuncOp::create(builder, loc, name, type);
    declaration.setPrivate();
    symbols.insert(declaration);
    return declaration;
  }

  ModuleOp module;
  SymbolTable symbols;
  OpBuilder builder;
};

struct LowerKernelsToCallsPass
    : public autochunk::impl::LowerKernelsToCallsPassBase<
          LowerKernelsToCallsPass> {
  void runOnOperation() override {
    // Bufferization's own copies (a loop writing its output over an input
    // copies that input's chunk first; a reshape of a slice with no strided
    // form) must run on the device that holds the buffers: upstream lowers a
    // contiguous memref.copy to a host memcpy, which reads device memory on
    // CUDA. They become the runtime's copy kernel like every other copy.
    SmallVector<memref::CopyOp> copies;
    getOperation().walk([&](memref::CopyOp copy) { copies.push_back(copy); });
    OpBuilder builder(&getContext());
    for (memref::CopyOp copy : copies) {
      builder.setInsertionPoint(copy);
      kernel::CallOp::create(builder, copy.getLoc(), TypeRange{}, "copy",
                             ValueRange{copy.getSource()},
                             ValueRange{copy.getTarget()},
                             builder.getDictionaryAttr({}));
      copy.erase();
    }
    SmallVector<kernel::CallOp> calls;
    getOperation().walk([&](kernel::CallOp call) { calls.push_back(call); });
    KernelCallLowering lowering(getOperation());
    for (kernel::CallOp call : calls)
      if (failed(lowering.lower(call)))
        return signalPassFailure();
  }
};

} // namespace
