// Data sets from CSV files: which columns become inputs and targets, every error that ties a file
// to a model (with its exact message and place), and gathering batches.
#include <castnet/data/dataset.hpp>
#include <castnet/error.hpp>
#include <castnet/data/csv.hpp>

#include <catch2/catch.hpp>
#include <support/process.hpp>
#include <support/tiny_model.hpp>

#include <memory>
#include <string>
#include <vector>

namespace {

using castnet::Loss;
using Labels = std::vector<std::string>;

struct Fixture {
  castnet::test::TempDir dir;
  std::string file() const { return (dir.path() / "data.csv").string(); }
  castnet::io::CsvTable read(const std::string& text) const {
    castnet::test::write_file(file(), text);
    return castnet::io::read_csv(file());
  }
};

}  // namespace

TEST_CASE_METHOD(Fixture, "dataset: labels are targets in the order named, the rest inputs in file order",
                 "[dataset]") {
  const auto table = read("a,y1,b,y2,c\n1,10,2,20,3\n4,40,5,50,6\n");
  const auto data = castnet::dataset_from_csv<float>(table, {"y2", "y1"}, Loss::mse, 3, 2);
  CHECK(data.rows == 2);
  CHECK(data.inputs == 3);
  CHECK(data.targets == 2);
  CHECK(data.x == std::vector<float>{1, 2, 3, 4, 5, 6});
  CHECK(data.t == std::vector<float>{20, 10, 50, 40});
}

TEST_CASE_METHOD(Fixture, "dataset: given the trained column names, inputs are taken by name, and others refused",
                 "[dataset]") {
  const auto table = read("c,y,a,b\n3,0,1,2\n6,1,4,5\n");
  const auto data = castnet::dataset_from_csv<float>(table, {"y"}, Loss::mse, 3, 1);
  CHECK(data.input_names == Labels{"c", "a", "b"});
  // Trained on a, b, c: the file's other order is mapped back.
  const Labels trained = {"a", "b", "c"};
  const auto mapped = castnet::dataset_from_csv<float>(table, {"y"}, Loss::mse, 3, 1, trained);
  CHECK(mapped.x == std::vector<float>{1, 2, 3, 4, 5, 6});
  CHECK(mapped.input_names == trained);
  CHECK(castnet::inputs_from_csv<float>(table, {"y"}, 3, trained).x == std::vector<float>{1, 2, 3, 4, 5, 6});
  // A column missing and another in its place: both named.
  const auto other = read("a,b,d,y\n1,2,3,0\n");
  CHECK_THROWS_WITH(castnet::inputs_from_csv<float>(other, {"y"}, 3, trained),
                    file() + ":1: error: the input columns are not those the weights were trained on: missing c; "
                             "not trained on d; trained on a, b, c");
}

TEST_CASE_METHOD(Fixture, "dataset: a class index column becomes one target per sample", "[dataset]") {
  const auto table = read("x1,x2,label\n0.5,-1,2\n0.25,3,0\n");
  const auto data =
      castnet::dataset_from_csv<double>(table, {"label"}, Loss::softmax_cross_entropy, 2, 3);
  CHECK(data.targets == 1);
  CHECK(data.x == std::vector<double>{0.5, -1, 0.25, 3});
  CHECK(data.t == std::vector<double>{2, 0});
}

TEST_CASE_METHOD(Fixture, "dataset: binary targets anywhere in [0, 1] are accepted", "[dataset]") {
  const auto table = read("x,y\n1,0\n2,1\n3,0.25\n");
  const auto data = castnet::dataset_from_csv<float>(table, {"y"}, Loss::binary_cross_entropy, 1, 1);
  CHECK(data.t == std::vector<float>{0, 1, 0.25f});
}

TEST_CASE_METHOD(Fixture, "dataset: wrong number of input columns", "[dataset]") {
  const auto table = read("x1,x2,x3,y\n1,2,3,4\n");
  CHECK_THROWS_WITH(castnet::dataset_from_csv<float>(table, {"y"}, Loss::mse, 2, 1),
                    file() + ": error: 3 input columns, the spec's input needs 2 (labels: y)");
}

TEST_CASE_METHOD(Fixture, "dataset: softmax cross-entropy needs exactly one label column", "[dataset]") {
  const auto table = read("x,a,b\n1,0,1\n");
  CHECK_THROWS_WITH(
      castnet::dataset_from_csv<float>(table, {"a", "b"}, Loss::softmax_cross_entropy, 1, 2),
      file() + ": error: softmax_cross_entropy needs exactly 1 label column (the class index), "
               "got 2 (labels: a, b)");
}

TEST_CASE_METHOD(Fixture, "dataset: mse and binary cross-entropy need one label column per output",
                 "[dataset]") {
  const auto table = read("x,y\n1,0\n");
  CHECK_THROWS_WITH(castnet::dataset_from_csv<float>(table, {"y"}, Loss::mse, 1, 2),
                    file() + ": error: mse needs 2 label columns (one per output), got 1 (labels: y)");
  CHECK_THROWS_WITH(
      castnet::dataset_from_csv<float>(table, {"y"}, Loss::binary_cross_entropy, 1, 3),
      file() + ": error: binary_cross_entropy needs 3 label columns (one per output), got 1 "
               "(labels: y)");
  CHECK_THROWS_WITH(castnet::dataset_from_csv<float>(table, {}, Loss::mse, 2, 1),
                    file() + ": error: mse needs 1 label columns (one per output), got 0 (labels: none)");
}

TEST_CASE_METHOD(Fixture, "dataset: a missing label column names the columns there are", "[dataset]") {
  const auto table = read("x1,x2,y\n1,2,3\n");
  CHECK_THROWS_WITH(castnet::dataset_from_csv<float>(table, {"z"}, Loss::mse, 2, 1),
                    file() + ":1: error: no column 'z' (columns: x1, x2, y)");
}

TEST_CASE_METHOD(Fixture, "dataset: a label column named twice", "[dataset]") {
  const auto table = read("x,y\n1,2\n");
  CHECK_THROWS_WITH(castnet::dataset_from_csv<float>(table, {"y", "y"}, Loss::mse, 0, 2),
                    file() + ": error: label column 'y' is named twice");
}

TEST_CASE_METHOD(Fixture, "dataset: class indices must be integers in 0..K-1, errors at line:column",
                 "[dataset]") {
  // Line 4 (a blank line is skipped but counted); the cell starts at byte 10 after "0.3,0.4, ".
  SECTION("not an integer") {
    const auto table = read("x1,x2,y\n0.1,0.2,0\n\n0.3,0.4, 1.5\n");
    CHECK_THROWS_WITH(
        castnet::dataset_from_csv<float>(table, {"y"}, Loss::softmax_cross_entropy, 2, 3),
        file() + ":4:10: error: label 'y' is 1.5, not a class index 0..2");
  }
  SECTION("too large") {
    const auto table = read("y,x1,x2\n3,0.1,0.2\n");
    CHECK_THROWS_WITH(
        castnet::dataset_from_csv<float>(table, {"y"}, Loss::softmax_cross_entropy, 2, 3),
        file() + ":2:1: error: label 'y' is 3, not a class index 0..2");
  }
  SECTION("negative") {
    const auto table = read("x1,y,x2\n0.1,-1,0.2\n");
    CHECK_THROWS_WITH(
        castnet::dataset_from_csv<float>(table, {"y"}, Loss::softmax_cross_entropy, 2, 3),
        file() + ":2:5: error: label 'y' is -1, not a class index 0..2");
  }
}

TEST_CASE_METHOD(Fixture, "dataset: binary cross-entropy targets must lie in [0, 1]", "[dataset]") {
  SECTION("above") {
    const auto table = read("x,y\n1,0\n2,1.5\n");
    CHECK_THROWS_WITH(
        castnet::dataset_from_csv<float>(table, {"y"}, Loss::binary_cross_entropy, 1, 1),
        file() + ":3:3: error: label 'y' is 1.5, binary_cross_entropy targets lie in [0, 1]");
  }
  SECTION("below, in the second label column") {
    const auto table = read("x,a,b\n1,0,-0.25\n");
    CHECK_THROWS_WITH(
        castnet::dataset_from_csv<float>(table, {"a", "b"}, Loss::binary_cross_entropy, 1, 2),
        file() + ":2:5: error: label 'b' is -0.25, binary_cross_entropy targets lie in [0, 1]");
  }
}

TEST_CASE_METHOD(Fixture, "dataset: mse takes any label value", "[dataset]") {
  const auto table = read("x,y\n1,-1e6\n");
  CHECK(castnet::dataset_from_csv<float>(table, {"y"}, Loss::mse, 1, 1).t == std::vector<float>{-1e6f});
}

TEST_CASE_METHOD(Fixture, "dataset: prediction input skips the label columns it has", "[dataset]") {
  const auto table = read("x1,y,x2\n1,9,2\n3,9,4\n");
  SECTION("present label ignored, absent one too") {
    const auto data = castnet::inputs_from_csv<float>(table, {"y", "not_there"}, 2);
    CHECK(data.rows == 2);
    CHECK(data.targets == 0);
    CHECK(data.x == std::vector<float>{1, 2, 3, 4});
    CHECK(data.t.empty());
  }
  SECTION("without labels every column is an input") {
    CHECK_THROWS_WITH(castnet::inputs_from_csv<float>(table, {}, 2),
                      file() + ": error: 3 input columns, the spec's input needs 2 (labels: none)");
    CHECK(castnet::inputs_from_csv<float>(table, {}, 3).x == std::vector<float>{1, 9, 2, 3, 9, 4});
  }
}

TEST_CASE("dataset: a batch gathers the given rows contiguously", "[dataset]") {
  using M = castnet_test::LinearModel<2, 1, Loss::mse>;
  castnet::Dataset<float> data;
  data.rows = 3;
  data.inputs = 2;
  data.targets = 1;
  data.x = {1, 2, 3, 4, 5, 6};
  data.t = {10, 20, 30};
  auto batch = std::make_unique<castnet::Batch<M>>();
  const std::vector<std::size_t> rows{2, 0};
  batch->gather(data, rows);
  CHECK(batch->x[0] == 5);
  CHECK(batch->x[1] == 6);
  CHECK(batch->x[2] == 1);
  CHECK(batch->x[3] == 2);
  CHECK(batch->t[0] == 30);
  CHECK(batch->t[1] == 10);
  CHECK(reinterpret_cast<std::uintptr_t>(batch->x.data()) % 64 == 0);
}
