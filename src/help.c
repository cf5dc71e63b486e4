/* Usage lines and the man-page-like help of `nad help` / `nad COMMAND --help`. */
#include <string.h>

#include "cli.h"

typedef struct section {
  const char *command; /* "arch show", ... */
  const char *usage;   /* one line, without "usage: " */
  const char *body;    /* description and options */
} section;

static const section sections[] = {
    {"arch list", "nad arch list",
     "    Print the names of the built-in architectures, one per line.\n"},
    {"arch show",
     "nad arch show NAME [--input CxHxW] [--outputs K] [--spec FILE | --spec-string SPEC] "
     "[--json]",
     "    Print the layers of an architecture (index, description, output shape CxHxW,\n"
     "    parameters, FLOPs per sample) and the totals: trainable parameters, floats in the\n"
     "    state_dict (BatchNorm running statistics included) and FLOPs of one forward pass\n"
     "    (a multiply-add counts 2).\n"
     "    --input CxHxW      input shape per sample (default 1x32x32)\n"
     "    --outputs K        number of outputs (default 1)\n"
     "    --spec FILE        read a layer spec from FILE (NAME is then 'spec' or omitted);\n"
     "                       '#' starts a comment, newlines are blanks, layers are separated\n"
     "                       by ';' (see nad.h, nad_arch_create_spec)\n"
     "    --spec-string SPEC the same from the command line, e.g.\n"
     "                       \"conv 6 k5; relu; maxpool 2; fc 10\"\n"
     "    --json             print one JSON object: name, input [c,h,w], outputs, parameters,\n"
     "                       state_dict_floats, flops, layers [{desc, shape, params, flops}]\n"},
    {"net init", "nad net init NAME --seed S [--input CxHxW] [--outputs K] [arch options] --out FILE",
     "    Initialise a network as PyTorch does (deterministic for NAME, shape and S) and write\n"
     "    its parameters, in PyTorch state_dict order, as a 1-D float32 .npy file.\n"
     "    --seed S           seed (integer >= 0), required\n"
     "    --out FILE         output .npy file, required\n"
     "    --spec FILE, --spec-string SPEC, --input, --outputs   as for 'arch show'\n"},
    {"net forward",
     "nad net forward NAME --params FILE --x FILE [--input CxHxW] [--outputs K] [arch options] "
     "--out FILE [--grad FILE]",
     "    Evaluate a network (eval mode) on a batch and write its outputs as B x K float32.\n"
     "    --params FILE      1-D .npy of the parameters (e.g. from 'nad net init')\n"
     "    --x FILE           inputs: B x C x H x W or B x D (D = C*H*W), float32 or float64;\n"
     "                       the shape must agree with --input\n"
     "    --out FILE         outputs, B x K float32\n"
     "    --grad FILE        also write the gradient of output 0 with respect to each input,\n"
     "                       B x C x H x W float32\n"},
    {"estimate",
     "nad estimate ARCH [--input CxHxW] [--outputs K] [--networks N] [--scale S] "
     "[--mode dipole|gradient] [--eval-point normal|zeros|FILE.npy] [--seed S] [--threads T] "
     "[--top K] [--batch B] [--memory SIZE] [--checkpoint FILE [--checkpoint-every N]] "
     "[--resume FILE] "
     "[--spec FILE | --spec-string SPEC] [--quiet] [--json] --out DIR",
     "    Estimate the neural anisotropy directions (NADs) of ARCH: the eigenvectors of the\n"
     "    covariance, over N randomly initialised networks, of the response of output 0 at an\n"
     "    evaluation point x0. With the dipole (default) the response of pixel i is\n"
     "    (f(x0 + S e_i) - f(x0 - S e_i)) / 2S; with 'gradient' it is the input gradient.\n"
     "    --networks N       networks in total (>= 2, default 1000)\n"
     "    --scale S          dipole step S > 0 (default 100)\n"
     "    --mode M           dipole (default) or gradient\n"
     "    --eval-point P     normal (x0 ~ N(0, I) from the seed, default), zeros, or a .npy\n"
     "                       file with C*H*W values\n"
     "    --seed S           seed (default 0); network j depends only on (S, j)\n"
     "    --threads T        worker threads (default: all online CPUs; 0 = all online CPUs)\n"
     "    --top K            NADs to keep (default 0 = all C*H*W)\n"
     "    --batch B          perturbed inputs per forward chunk (library default 256)\n"
     "    --memory SIZE      memory budget, e.g. 2G (K, M, G, T: powers of 1024; default:\n"
     "                       half of the available memory). The batch is halved, then fewer\n"
     "                       networks run at once, until the run fits; a run whose\n"
     "                       accumulators alone (about 24 D^2 bytes) do not fit is refused\n"
     "                       before it starts\n"
     "    --checkpoint FILE  save the accumulator to FILE during the run, at the end and on\n"
     "                       Ctrl-C (a later run continues from it with --resume FILE)\n"
     "    --checkpoint-every N   networks between checkpoints (default 100)\n"
     "    --resume FILE      load a checkpoint first; --networks stays the total to reach\n"
     "    --quiet            no progress bar, no summary on stdout\n"
     "    --json             print summary.json as one JSON line on stdout instead of the\n"
     "                       summary text (the progress bar stays on stderr)\n"
     "    --out DIR          output directory (created if missing)\n"
     "    Writes into DIR: eigenvalues.npy (float64 K, descending covariance eigenvalues),\n"
     "    nads.npy (float32 K x D, unit rows), mean.npy (float64 D, mean response),\n"
     "    spectrum.npy (float64 C x H x W, Fourier power of the covariance, fftshifted),\n"
     "    nads.png (the first 16 NADs and their spectra) and, last, summary.json with the\n"
     "    settings, timing and a convergence check (the networks split into two halves by\n"
     "    parity: top-k overlap and spectrum correlation of the halves, k = 1 and 10).\n"
     "    A run counts as converged when spectrum corr >= 0.99 and top-1 overlap >= 0.9.\n"
     "    summary.json exists only for a complete run. Ctrl-C stops the run, saves the\n"
     "    checkpoint if one was asked for, writes no results and exits with status 130.\n"},
    {"compare", "nad compare A B [--k K] [--input CxHxW] [--json]",
     "    Compare two NAD sets: top-k subspace overlap (mean cos^2 of the principal angles)\n"
     "    for k in 1, 2, 5, 10, 20, 50 (up to K) and the correlation of the log Fourier power\n"
     "    spectra of the two covariances.\n"
     "    A and B are each either\n"
     "      - a directory written by 'nad estimate' (nads.npy, eigenvalues.npy used as is), or\n"
     "      - a file X_NADs.npy of the reference code; its eigenvalues are read from\n"
     "        X_eigenvals.npy, which holds PCA singular values s: they are squared, or\n"
     "      - a file .../nads.npy, with eigenvalues.npy next to it (used as is).\n"
     "    --k K              largest k (default: min(50, rows of A, rows of B)); K itself is\n"
     "                       reported too\n"
     "    --input CxHxW      shape of one NAD (default: the input in the run's summary.json,\n"
     "                       else 1 x sqrt(D) x sqrt(D))\n"
     "    --json             print {\"spectrum_corr\": x, \"overlap\": {\"1\": .., ...}, \"k\": K}\n"},
    {"bias",
     "nad bias ARCH --direction fourier:FY,FX[,sin|cos] | nad:K:DIR | random[:SEED] | FILE.npy "
     "[--input CxHxW] [--epsilon 1] [--sigma 3] [--train 10000] [--test 10000] [--epochs 20] "
     "[--batch 128] [--lr 0.5] [--momentum 0] [--weight-decay 0] [--clip 0.5] [--seed S] "
     "[--threads T] [--spec FILE | --spec-string SPEC] [--quiet] [--json]",
     "    Directional bias (the paper's first experiment): train a fresh network of ARCH (2\n"
     "    outputs, PyTorch initialisation from S) with SGD on the linearly separable\n"
     "    distribution D(v) and report its test accuracy. A sample is x = +-(eps/2) v + w with\n"
     "    label 0 for +, 1 for -, v of unit norm and w ~ N(0, sigma^2 I) without its component\n"
     "    along v. The defaults are the reference setup; per-epoch progress goes to stderr.\n"
     "    --direction V      fourier:FY,FX  2-D Fourier basis vector of FY, FX cycles per image\n"
     "                       (|FY| <= H/2, |FX| <= W/2): the sine -sin(2 pi (FY y/H + FX x/W)),\n"
     "                       or the cosine where the sine vanishes (DC, Nyquist); append ,sin\n"
     "                       or ,cos to choose; nad:K:DIR  row K (from 0) of DIR/nads.npy\n"
     "                       written by 'nad estimate'; random[:SEED]  Gaussian direction\n"
     "                       (SEED defaults to --seed); FILE.npy  any array of C*H*W values\n"
     "    --epsilon E        margin between the classes (> 0, default 1)\n"
     "    --sigma S          noise standard deviation (>= 0, default 3)\n"
     "    --train N, --test N   samples (default 10000 each)\n"
     "    --epochs N         epochs (default 20); --batch B  batch size (default 128)\n"
     "    --lr L             peak learning rate, decayed linearly to 0 per batch (default 0.5)\n"
     "    --momentum M       SGD momentum in [0, 1) (default 0)\n"
     "    --weight-decay W   L2 weight decay (default 0)\n"
     "    --clip C           gradient-norm clipping (default 0.5, 0 = none)\n"
     "    --seed S           network initialisation and shuffling; the training data come\n"
     "                       from seed 2S+1, the test data from 2S+2 (default 0)\n"
     "    --threads T        threads (default: all online CPUs; 0 = all); results are\n"
     "                       reproducible for a seed and thread count\n"
     "    --quiet            no progress lines\n"
     "    --json             the last line of stdout is one JSON object: test_accuracy,\n"
     "                       train_accuracy (percent, last epoch), train_loss, epochs,\n"
     "                       epochs_to_90 (first epoch with train accuracy >= 90, or null),\n"
     "                       seconds, test_accuracy_per_epoch and the settings\n"},
    {"sweep",
     "nad sweep ARCH (--grid fourier [--step 2] | --nads DIR --indices A:B:STEP) --out DIR "
     "[training options of 'nad bias']",
     "    Test accuracy of 'nad bias' training over many directions, one fresh network per\n"
     "    direction (same seeds for all: only v changes), its test accuracy measured after\n"
     "    the last epoch.\n"
     "    --grid fourier     Fourier directions (fourier:FY,FX of 'nad bias') with FY, FX in\n"
     "                       -H/2, -H/2 + STEP, ... (distinct frequencies only): 16 x 16 cells\n"
     "                       for 32x32 inputs and step 2, the paper's Figure 1\n"
     "    --step STEP        grid spacing (default 2)\n"
     "    --nads DIR         NADs of DIR/nads.npy (from 'nad estimate'), numbers A, A+STEP, ...\n"
     "    --indices A:B:STEP  below B (as Python's range), the paper's Figure 2\n"
     "    --out DIR          output directory (created if missing)\n"
     "    Writes DIR/accuracy.csv (fy,fx,accuracy or index,accuracy; accuracy in percent), one\n"
     "    row per finished direction, flushed to disk at once, and DIR/accuracy.png: a heat map\n"
     "    (rows FY, columns FX, ascending, so DC is in the centre; viridis from 50 to 100 %,\n"
     "    grey = not done) or a line plot of accuracy against NAD number (50 to 100 %).\n"
     "    DIR/sweep.json records the settings. Interrupted (Ctrl-C, crash), the same command\n"
     "    resumes: finished rows are kept and skipped; other settings are refused.\n"},
    {"help", "nad help [COMMAND]", "    Print this help, or the help of one command.\n"},
    {"doctor", "nad doctor [--json]",
     "    Print what libnad runs on: the BLAS (vendor, version, kernel set in use and the best\n"
     "    one for this CPU, threads), the CPU's vector level and any warning, e.g. a BLAS that\n"
     "    does not recognise the CPU and runs generic kernels. When the library names a fix\n"
     "    (OPENBLAS_CORETYPE=...), every nad command applies it by restarting itself once;\n"
     "    a variable you set yourself is never overridden.\n"
     "    --json             print one JSON object (the 'blas' object is the one that\n"
     "                       'nad estimate' writes into summary.json)\n"},
    {"version", "nad --version [--verbose]",
     "    Print the version of the tool and of the loaded libnad; --verbose adds what\n"
     "    'nad doctor' prints.\n"},
};
#define NSECTIONS (sizeof sections / sizeof sections[0])

const char *cli_usage_line(const char *command) {
  if (command) {
    for (size_t i = 0; i < NSECTIONS; i++)
      if (strcmp(sections[i].command, command) == 0)
        return sections[i].usage;
    if (strcmp(command, "arch") == 0)
      return "nad arch list | nad arch show NAME [options]";
    if (strcmp(command, "net") == 0)
      return "nad net init NAME ... | nad net forward NAME ...";
  }
  return "nad COMMAND [options]   (nad help for the list)";
}

/* The command names of the help sections ("arch", "net", "estimate", ...), each once. */
static int command_names(const char *names[], int max) {
  static char words[NSECTIONS][32];
  int n = 0;
  for (size_t i = 0; i < NSECTIONS && n < max; i++) {
    const char *c = sections[i].command;
    size_t len = strcspn(c, " ");
    if (len >= sizeof words[0])
      continue;
    int seen = 0;
    for (int k = 0; k < n; k++)
      seen |= strlen(names[k]) == len && strncmp(names[k], c, len) == 0;
    if (!seen) {
      memcpy(words[n], c, len);
      words[n][len] = '\0';
      names[n] = words[n];
      n++;
    }
  }
  return n;
}

const char *cli_nearest_command(const char *word) {
  const char *names[NSECTIONS];
  int n = command_names(names, (int)NSECTIONS);
  return cli_nearest(word, strlen(word), names, n);
}

void cli_print_usage(FILE *f) {
  fputs("usage: nad COMMAND [ARGUMENTS] [OPTIONS]\n\ncommands:\n", f);
  for (size_t i = 0; i < NSECTIONS; i++) {
    /* the first words of the usage line: "nad estimate ARCH", "nad arch show NAME", ... */
    const char *u = sections[i].usage;
    const char *stop = strstr(u, " [");
    const char *dashes = strstr(u + 4, " --"); /* after "nad ": "nad --version" stays */
    const char *paren = strstr(u, " (");
    if (!stop || (dashes && dashes < stop))
      stop = dashes;
    if (!stop || (paren && paren < stop))
      stop = paren;
    int len = stop ? (int)(stop - u) : (int)strlen(u);
    fprintf(f, "  %.*s\n", len, u);
  }
  fputs("\n'nad help' for everything, 'nad COMMAND --help' for one command.\n", f);
}

static void print_section(FILE *f, const section *s) {
  fprintf(f, "  %s\n%s\n", s->usage, s->body);
}

void cli_print_help(FILE *f, const char *command) {
  if (command) {
    size_t n = strlen(command);
    int found = 0;
    for (size_t i = 0; i < NSECTIONS; i++) {
      /* "arch" prints "arch list" and "arch show" */
      if (strncmp(sections[i].command, command, n) == 0 &&
          (sections[i].command[n] == '\0' || sections[i].command[n] == ' ')) {
        if (!found)
          fputs("USAGE\n", f);
        print_section(f, &sections[i]);
        found = 1;
      }
    }
    if (found)
      return;
  }
  fputs("NAME\n"
        "    nad - neural anisotropy directions of neural-network architectures\n"
        "\n"
        "SYNOPSIS\n"
        "    nad COMMAND [ARGUMENTS] [OPTIONS]\n"
        "\n"
        "DESCRIPTION\n"
        "    Builds CNN architectures (built-in or from a layer spec), initialises and evaluates\n"
        "    networks, estimates their NADs (Ortiz-Jimenez et al., NeurIPS 2020) on the CPU and\n"
        "    compares NAD sets. Options are long (--name VALUE or --name=VALUE); the last one\n"
        "    given wins. Arrays are .npy files.\n"
        "\n"
        "COMMANDS\n",
        f);
  for (size_t i = 0; i < NSECTIONS; i++)
    print_section(f, &sections[i]);
  fputs("EXIT STATUS\n"
        "    0 success, 1 error (message on stderr), 2 usage error, 130 cancelled by Ctrl-C.\n"
        "\n"
        "EXAMPLES\n"
        "    nad arch show lenet\n"
        "    nad estimate lenet --networks 1000 --out lenet-nads\n"
        "    nad compare lenet-nads /path/to/LeNet_NADs.npy\n"
        "    nad bias lenet --direction fourier:2,0\n"
        "    nad sweep lenet --grid fourier --out lenet-grid\n",
        f);
}
