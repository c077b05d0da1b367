// See usage.hpp. Each text lists the options its verb's Args (or, for bench, the suite's
// parse_options) accepts; tests/e2e/cli_test.cpp checks that every option named there is accepted.
#include "usage.hpp"

#include <string>
#include <string_view>

namespace castnet::cli {

const char* const kOverview =
    "usage: castnet VERB [args...]; castnet VERB --help lists the verb's options\n"
    "  check    SPEC                             validate; layers, parameters, FLOPs, memory\n"
    "  gen      SPEC -o DIR                      write the generated C++ header\n"
    "  train    SPEC                             generate, compile (cached) and train\n"
    "  eval     SPEC --weights W                 mean loss (accuracy, confusion matrix)\n"
    "  predict  SPEC --weights W --input F.csv   one output row per input row\n"
    "  export   SPEC --weights W -o FILE.hpp     a standalone inference header\n"
    "  landscape SPEC --weights W                the loss on a grid around W (Li et al. 2018)\n"
    "  sweep    SPEC --set KEY=V1,V2,...         train the grid of settings (sizes, rates, noise)\n"
    "  bench    SPEC                             against the interpreter, Eigen and libtorch\n"
    "  import   MODEL.onnx -o SPEC.toml          an ONNX model as a spec and its weights\n"
    "  cache    list|clean                       the compiled runners: show them, free them\n"
    "  --version                                 the version and the instruction set built for\n";

namespace {

constexpr const char* kLimit =
    "  --limit KEY=N,...     change the generator's limits, after CASTNET_LIMITS=KEY=N,... from the\n"
    "                        environment (keys and defaults: specs/README.md, Limits)\n";

struct VerbUsage {
  std::string_view verb;
  const char* text;
};

// --limit is appended to the verbs that read a spec with it (their Args take it).
constexpr VerbUsage kVerbs[] = {
    {"check",
     "usage: castnet check SPEC [--ir | --json | --quiet]\n"
     "Validates SPEC and prints each layer's name, type, output shape, parameters and FLOPs per sample,\n"
     "with totals, the planned memory and the size of the generated source.\n"
     "  --ir                  print the IR after the passes instead\n"
     "  --json                the same figures as one JSON object\n"
     "  --quiet               print nothing: the exit code says whether spec and data are fine\n"},
    {"gen",
     "usage: castnet gen SPEC -o DIR [options]\n"
     "Writes DIR/<name>.hpp, rewritten only when its bytes change.\n"
     "  -o, --out DIR         the folder to write into (required)\n"
     "  --real float|double   the number type (default float)\n"
     "  --namespace NS        the C++ namespace (default: the spec's name)\n"
     "  --header-name FILE    the header's file name (default <name>.hpp)\n"
     "  --depfile FILE        also write a Makefile-syntax dependency file (for build systems)\n"
     "  --batch N             plan the model for N rows per batch instead of the spec's\n"
     "  --arch A              native, avx512, avx2, sse4, neon or scalar: fix the instruction set\n"
     "                        (the header checks the compile flags; default: the flags decide);\n"
     "                        or dispatch: the header, a unit <stem>_<isa>.cpp per instruction set\n"
     "                        and <stem>_dispatch.cpp, which picks one at the first call (CASTNET_ISA\n"
     "                        forces one)\n"},
    {"train",
     "usage: castnet train SPEC [options]\n"
     "Generates the model, compiles its runner (cached: only a changed network compiles again), trains,\n"
     "and writes weights, checkpoint, metrics and curves into --out. Defaults come from the spec.\n"
     "  --data F              training data: a CSV file, IDX images, or mnist:train ([data] train)\n"
     "  --data-labels L       the IDX labels beside IDX images ([data] train_labels)\n"
     "  --labels a,b          the CSV's label columns ([data] labels)\n"
     "  --epochs N            epochs to train ([train] epochs)\n"
     "  --lr X                the learning rate ([optimizer] lr)\n"
     "  --seed S              the seed of initialisation, shuffling and dropout ([train] seed)\n"
     "  --init W              start from these weights instead of the seed's\n"
     "  --out DIR             where the run's files go (default runs/<name>)\n"
     "  --resume              continue the run in --out from its checkpoint\n"
     "  --force               replace a run of another network in --out (else refused)\n"
     "  --save-every SECONDS  least time between saves; 0 saves after every epoch (default 1)\n"
     "  --threads N           share each batch among N threads (default 1)\n"
     "  --distributed         join an MPI job (also implied under mpirun)\n"
     "  --json                one JSON object per epoch, a line each, then one naming the files\n"
     "                        (and the test set's evaluation)\n"
     "  --quiet               print nothing but errors\n"},
    {"eval",
     "usage: castnet eval SPEC --weights W [options]\n"
     "Mean loss; for classifiers accuracy, error and a confusion matrix.\n"
     "  --weights W           the weights to evaluate (required)\n"
     "  --data F              the data ([data] test, else [data] train)\n"
     "  --data-labels L       the IDX labels beside IDX images\n"
     "  --labels a,b          the CSV's label columns ([data] labels)\n"
     "  --images OUT.png      draw inputs above outputs (autoencoders)\n"
     "  --quantize int8|bf16  evaluate the weights as `export --quantize` stores them\n"
     "  --calibrate DATA      with --quantize int8: the header `export --calibrate DATA` writes\n"
     "                        (activations int8 too, ranges measured on DATA), as it computes\n"
     "  --calibrate-labels L  the IDX labels beside IDX calibration images\n"
     "  --json                the evaluation and the quality figures as one JSON object\n"
     "  --quiet               print nothing but errors\n"},
    {"predict",
     "usage: castnet predict SPEC --weights W --input F.csv [options]\n"
     "One output row per input row: y0.. for mse, sigmoid p0.. for binary cross-entropy, softmax\n"
     "p0..,class for softmax cross-entropy.\n"
     "  --weights W           the trained weights (required)\n"
     "  --input F.csv         the rows to predict (required); label columns are ignored\n"
     "  --labels a,b          the label columns to ignore ([data] labels)\n"
     "  --json                one object: {\"columns\": [...], \"rows\": [[...], ...]}\n"
     "  --quiet               print nothing but errors (a check that the input fits)\n"},
    {"landscape",
     "usage: castnet landscape SPEC --weights W [options]\n"
     "The loss (and accuracy) at W + a d1 + b d2 on a grid of (a, b) in [-span, span]^2, for two random\n"
     "directions d1, d2 normalised filter by filter (Li et al. 2018): each neuron's (dense row's) or\n"
     "filter's (conv output channel's) slice of a direction has the norm of W's; biases and other\n"
     "per-feature tensors stay put. Computed by the compiled model on threads. Writes landscape.csv,\n"
     "landscape.svg (heatmap, contours), landscape_slice.svg and directions.safetensors; prints the\n"
     "grid's minimum.\n"
     "  --weights W           the trained weights (required)\n"
     "  --data F              the data ([data] train: the training loss)\n"
     "  --data-labels L       the IDX labels beside IDX images\n"
     "  --labels a,b          the CSV's label columns ([data] labels)\n"
     "  --steps N             grid points per direction, 2 to 1001 (default 41; odd puts W on the grid)\n"
     "  --span S              the grid's half-width in units of the directions (default 1)\n"
     "  --seed S              the seed of the directions and of --subset ([train] seed)\n"
     "  --subset N            the loss on N rows drawn by the seed (default: all rows)\n"
     "  --threads N           grid points evaluated at once (default: the cores)\n"
     "  -o, --out DIR         where the files go (default runs/<name>/landscape)\n"
     "  --json                the minimum and the centre as one JSON object\n"
     "  --quiet               print nothing but errors\n"},
    {"sweep",
     "usage: castnet sweep SPEC --set KEY=V1,V2,... [--set ...] [options]\n"
     "Trains every combination of the values given (the Cartesian grid) x --repeats seeds. KEY is a spec\n"
     "key: layer.<name>.<key> (layer.fc1.units), optimizer.<key> (optimizer.lr), train.<key>\n"
     "(train.epochs), data.<key> (data.subset, data.label_noise), loss.type or batch. Each configuration\n"
     "is a derived spec (DIR/specs/cN.toml) trained by `castnet train` in its own process; runners are\n"
     "cached by network, so values that only change training share one compile. Writes DIR/sweep.csv\n"
     "(a row per run, rewritten after each: run the same command again to resume an interrupted\n"
     "sweep), sweep.md (mean and spread over repeats) and sweep.svg (test and train error against the\n"
     "first KEY, with a min-max band over repeats).\n"
     "  --set KEY=V1,V2,...   a key and its values (repeatable; required)\n"
     "  --repeats R           runs per configuration, seeds seed, seed + 1, ... (default 1)\n"
     "  --jobs J              runs at a time (default: the cores)\n"
     "  -o, --out DIR         where the files go (default runs/<name>-sweep)\n"},
    {"export",
     "usage: castnet export SPEC --weights W -o FILE.hpp [options]\n"
     "A standalone inference header with the weights baked in: C++17, the standard library only.\n"
     "  --weights W           the trained weights (required)\n"
     "  -o, --out FILE.hpp    the header to write (required)\n"
     "  --namespace NS        the C++ namespace (default: the spec's name)\n"
     "  --dispatch            FILE.hpp declares the model; beside it, FILE_impl.hpp (the export),\n"
     "                        a unit FILE_<isa>.cpp per instruction set and FILE_dispatch.cpp, which\n"
     "                        picks one at the first call (CASTNET_ISA forces one); see FILE.hpp\n"
     "  --batch N             rows per predict_batch call (default: the spec's batch)\n"
     "  --quantize int8|bf16  dense and conv2d weights as int8 (per output channel, float scales)\n"
     "                        or bf16; activations stay float (weight-only)\n"
     "  --calibrate DATA      with --quantize int8: their inputs int8 too, with ranges the float\n"
     "                        model measures on DATA (a CSV or IDX file, or mnist:train), and\n"
     "                        integer dot products; the banner gives the accuracy on DATA\n"
     "  --calibrate-labels L  the IDX labels beside IDX calibration images (default: the spec's,\n"
     "                        when DATA is its train or test data)\n"
     "  --labels a,b          the calibration CSV's label columns ([data] labels)\n"},
    {"bench",
     "usage: castnet bench SPEC [options]\n"
     "Times the generated code against the interpreter, Eigen and libtorch in one process, with a\n"
     "same-run peak probe, once per instruction set; outputs are checked equal before timing.\n"
     "  --arch A,B            avx512, avx2, sse4 or native (default: every one this CPU runs)\n"
     "  --workloads latency,batch,step,epoch,tail   tables to measure (default latency,batch,step,tail)\n"
     "  --contenders generated,export,interpreter,eigen,torch   (default: all)\n"
     "  --repetitions N       interleaved repetitions per contender (default 11)\n"
     "  --min-time S          seconds per repetition of a contender (default 0.2)\n"
     "  --epoch-samples N     samples in the epoch workload (default 60000)\n"
     "  --tail-calls N        tail: calls timed alone per contender, warm and cold (default 1000000)\n"
     "  --tail-seconds S      tail: seconds per contender and cache state, at most (default 2)\n"
     "  --markdown FILE       append the tables to FILE\n"
     "  --csv FILE            append a line per timed contender to FILE\n"
     "  --title TEXT          heading of the tables\n"
     "  --benchmark_*         Google Benchmark's options\n"},
    {"import",
     "usage: castnet import MODEL.onnx -o SPEC.toml [--weights W.safetensors]\n"
     "An ONNX model as a castnet spec and its weights.\n"
     "  -o, --out SPEC.toml   the spec to write (required)\n"
     "  --weights W           the weights to write (default: SPEC.safetensors)\n"},
    {"cache",
     "usage: castnet cache list | clean [--older-than DAYS]\n"
     "The runners castnet compiled ($CASTNET_CACHE_DIR, else $XDG_CACHE_HOME/castnet, else\n"
     "~/.cache/castnet): list shows each with its size and last use; clean removes them (not MNIST),\n"
     "leaving alone any being compiled or looked up.\n"
     "  --older-than DAYS     clean: only runners unused for DAYS days (fractions allowed)\n"},
};

}  // namespace

std::string verb_usage(std::string_view verb) {
  const bool limit = verb == "check" || verb == "gen" || verb == "train" || verb == "eval" || verb == "predict" ||
                     verb == "export" || verb == "landscape" || verb == "sweep";
  for (const auto& v : kVerbs)
    if (v.verb == verb) return std::string(v.text) + (limit ? kLimit : "");
  return "";
}

}  // namespace castnet::cli
