// Unit tests of the graph dialect's C++ API: shape rules and op builders.
#include "autochunk/Dialect/Graph/GraphOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include <catch2/catch.hpp>

using namespace mlir;
using namespace autochunk::graph;

TEST_CASE("broadcastShapes follows numpy's rules", "[graph]") {
  auto shape = broadcastShapes({4, 1, 8}, {3, 1});
  REQUIRE(shape.has_value());
  CHECK(*shape == SmallVector<int64_t>{4, 3, 8});
  CHECK_FALSE(broadcastShapes({4, 8}, {5, 8}).has_value());
  CHECK(*broadcastShapes({}, {2, 3}) == SmallVector<int64_t>{2, 3});
}

TEST_CASE("EinsumEquation parses and rejects", "[graph]") {
  std::string error;
  auto equation = EinsumEquation::parse("sic,sjd->ijcd", error);
  REQUIRE(equation.has_value());
  CHECK(equation->inputs.size() == 2);
  CHECK(equation->output == "ijcd");
  CHECK(equation->reducedLabels() == "s");
  CHECK_FALSE(EinsumEquation::parse("ij,jk", error).has_value());
  CHECK(error.find("->") != std::string::npos);
  CHECK_FALSE(EinsumEquation::parse("ii->i", error).has_value());
  CHECK_FALSE(EinsumEquation::parse("ij->ik", error).has_value());
  CHECK_FALSE(EinsumEquation::parse("iJ->i", error).has_value());
}
