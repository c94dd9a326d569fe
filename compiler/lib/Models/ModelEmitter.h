//===- ModelEmitter.h - emits one model function layer by layer -*- C++ -*-===//
//
// The shared machinery of the model builders: a function whose weight
// arguments are added as the layers that use them are emitted, and the layers
// every model is made of (linear, layer norm, attention heads).
//
//===----------------------------------------------------------------------===//

#ifndef AUTOCHUNK_LIB_MODELS_MODELEMITTER_H
#define AUTOCHUNK_LIB_MODELS_MODELEMITTER_H

#include "autochunk/Models/ModelBuilders.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

#include <string>
#include <utility>

namespace autochunk::models {

/// The static shape of a graph value.
llvm::ArrayRef<int64_t> shapeOf(mlir::Value value);

/// "--flag must be positive, but is N" for the first non-positive size.
std::optional<std::string>
checkPositiveSizes(llvm::ArrayRef<std::pair<llvm::StringRef, int64_t>> sizes);

/// Fails with a message naming `shape` when one of `shapes` has more elements
/// than later size arithmetic (bytes, offsets in int64) can hold.
std::optional<std::string>
checkTensorSizes(llvm::ArrayRef<llvm::SmallVector<int64_t>> shapes);

/// Builds one `func.func` of a model. Inputs and weights become function
/// arguments in the order they are added; `finish` fixes the signature.
class ModelEmitter {
public:
  ModelEmitter(mlir::MLIRContext &context, llvm::StringRef functionName,
               DType dtype);

  mlir::OpBuilder &getBuilder() { return builder; }
  mlir::RankedTensorType tensorType(llvm::ArrayRef<int64_t> shape);
  /// A location naming the model part `scope` (e.g. "blocks.0.attn.qkv").
  mlir::Location loc(const llvm::Twine &scope);

  mlir::Value addInput(const llvm::Twine &name, llvm::ArrayRef<int64_t> shape);
  mlir::Value addWeight(const llvm::Twine &name, llvm::ArrayRef<int64_t> shape);

  /// `input W^T + b` with weight "<scope>.weight" [out, in] and, when
  /// `withBias`, bias "<scope>.bias" [out].
  mlir::Value linear(const llvm::Twine &scope, mlir::Value input,
                     int64_t outFeatures, bool withBias);
  /// Layer norm over the last dimension with "<scope>.weight" and
  /// "<scope>.bias".
  mlir::Value layerNorm(const llvm::Twine &scope, mlir::Value input,
                        double epsilon);

  mlir::Value add(const llvm::Twine &scope, mlir::Value lhs, mlir::Value rhs);
  mlir::Value mul(const llvm::Twine &scope, mlir::Value lhs, mlir::Value rhs);
  mlir::Value scale(const llvm::Twine &scope, mlir::Value input, double factor);
  mlir::Value sigmoid(const llvm::Twine &scope, mlir::Value input);
  mlir::Value relu(const llvm::Twine &scope, mlir::Value input);
  mlir::Value reshape(const llvm::Twine &scope, mlir::Value input,
                      llvm::ArrayRef<int64_t> shape);
  mlir::Value transpose(const llvm::Twine &scope, mlir::Value input,
                        llvm::ArrayRef<int64_t> permutation);
  /// Elements [start, start + size) of the last dimension.
  mlir::Value sliceLast(const llvm::Twine &scope, mlir::Value input,
                        int64_t start, int64_t size);

  /// `[..., tokens, heads * headDim]` to `[..., heads, tokens, headDim]`.
  mlir::Value splitHeads(const llvm::Twine &scope, mlir::Value input,
                         int64_t heads);
  /// The inverse of splitHeads.
  mlir::Value mergeHeads(const llvm::Twine &scope, mlir::Value input);

  /// Makes the function return `results` (value, graph.name), sets the
  /// signature and argument attributes, verifies and hands the module over.
  mlir::FailureOr<mlir::OwningOpRef<mlir::ModuleOp>>
  finish(llvm::ArrayRef<std::pair<mlir::Value, llvm::StringRef>> results,
         std::string &error);

private:
  mlir::Value addArgument(const llvm::Twine &name, llvm::StringRef role,
                          llvm::ArrayRef<int64_t> shape);

  mlir::MLIRContext &context;
  mlir::Type elementType;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  mlir::func::FuncOp function;
  mlir::OpBuilder builder;
  llvm::SmallVector<std::pair<std::string, llvm::StringRef>> argumentNames;
};

} // namespace autochunk::models

#endif // AUTOCHUNK_LIB_MODELS_MODELEMITTER_H
