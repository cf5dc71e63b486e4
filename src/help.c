/* Usage lines and the man-page-like help of `nad help` / `nad COMMAND --help`. */
#include <string.h>

#include "cli.h"

typedef struct section {
  const char *command; /* "arch show", ... */
  const char *usage;   /* one line, without "usage: " */
  const char *body;    /* description and options */
  const char *more;    /* rest of the body, or NULL (ISO C caps a string literal at 4095) */
} section;

static const section sections[] = {
    {"arch list", "nad arch list",
     "    Print the names of the built-in architectures, one per line.\n", NULL},
    {"arch show",
     "nad arch show NAME [--input CxHxW] [--outputs K] [--spec FILE | --spec-string SPEC] "
     "[--init-rules FILE] [--json]",
     "    Print the layers of an architecture (index, description, output shape CxHxW,\n"
     "    parameters, FLOPs per sample) and the totals: trainable parameters, floats in the\n"
     "    state_dict (BatchNorm running statistics included) and FLOPs of one forward pass\n"
     "    (a multiply-add counts 2).\n"
     "    --input CxHxW      input shape per sample (default 1x32x32)\n"
     "    --outputs K        number of outputs (default 1)\n"
     "    --spec FILE        read a layer spec from FILE (NAME is then 'spec' or omitted);\n"
     "                       '#' starts a comment, newlines are blanks, layers are separated\n"
     "                       by ';' (docs/spec.md: layers such as dwconv, relu6, gelu,\n"
     "                       layernorm and the blocks invres, cnblock, embed, encoder)\n"
     "    --spec-string SPEC the same from the command line, e.g.\n"
     "                       \"conv 6 k5; relu; maxpool 2; fc 10\"\n"
     "    --init-rules FILE  initialise random networks by the init rules in FILE instead of\n"
     "                       PyTorch's defaults (PATTERN RULE [ARGS] per line, e.g.\n"
     "                       'conv2d:*.weight kaiming_normal fan_out relu'; docs/onnx.md;\n"
     "                       torchvision's schemes in share/init/). Patterns that match no\n"
     "                       tensor are warnings\n"     "                       (arch show checks the file against the architecture)\n"
     "    --json             print one JSON object: name, input [c,h,w], outputs, parameters,\n"
     "                       state_dict_floats, flops, layers [{desc, shape, params, flops}]\n"
     "    NAME may be an ONNX model, MODEL.onnx (opsets 11-17; docs/onnx.md lists the\n"
     "    operators), here and wherever the tool takes an architecture: its input shape is the\n"
     "    file's unless --input is given, its outputs are the file's.\n", NULL},
    {"net init", "nad net init NAME --seed S [--input CxHxW] [--outputs K] [arch options] --out FILE",
     "    Initialise a network as PyTorch does (deterministic for NAME, shape and S) and write\n"
     "    its parameters, in PyTorch state_dict order, as a 1-D float32 .npy file.\n"
     "    --seed S           seed (integer >= 0), required\n"
     "    --out FILE         output .npy file, required; - is standard output (see FILES)\n"
     "    --spec FILE, --spec-string SPEC, --input, --outputs, --init-rules FILE   as for\n"
     "                       'arch show'\n", NULL},
    {"net forward",
     "nad net forward NAME [--params FILE] --x FILE [--input CxHxW] [--outputs K] [arch options] "
     "--out FILE [--grad FILE]",
     "    Evaluate a network (eval mode) on a batch and write its outputs as B x K float32.\n"
     "    --params FILE      1-D .npy of the parameters (e.g. from 'nad net init'); required\n"
     "                       but for MODEL.onnx, whose own weights are used without it\n"
     "    --x FILE           inputs: B x C x H x W or B x D (D = C*H*W), float32 or float64;\n"
     "                       the shape must agree with --input\n"
     "    --out FILE         outputs, B x K float32\n"
     "    --grad FILE        also write the gradient of output 0 with respect to each input,\n"
     "                       B x C x H x W float32\n"
     "    Each FILE may be - (standard input for --params and --x, standard output for\n"
     "    --out and --grad; one of each), e.g. 'nad net init lenet --seed 1 --out - |\n"
     "    nad net forward lenet --params - --x x.npy --out -  > y.npy'.\n", NULL},
    {"estimate",
     "nad estimate ARCH [--input CxHxW] [--outputs K] [--networks N] [--range A:B] [--scale S] "
     "[--mode dipole|gradient] [--eval-point normal|zeros|FILE.npy|data:SOURCE] "
     "[--eval-split test|train] [--normalize] [--params P.npy] [--output K|label] [--seed S] "
     "[--threads T] [--top K] [--sketch L] [--batch B] [--memory SIZE] "
     "[--checkpoint FILE [--checkpoint-every N]] [--resume FILE] [--model FILE.onnx] "
     "[--until-converged [--check-every C] [--check-growth G]] "
     "[--spec FILE | --spec-string SPEC] [--init-rules FILE] [--format png|svg|pdf] "
     "[--show LIST] [--quiet] [--json] --out DIR | --checkpoint FILE",
     "    Estimate the neural anisotropy directions (NADs) of ARCH: the eigenvectors of the\n"
     "    covariance, over N randomly initialised networks, of the response of output 0 at an\n"
     "    evaluation point x0. With the dipole (default) the response of pixel i is\n"
     "    (f(x0 + S e_i) - f(x0 - S e_i)) / 2S; with 'gradient' it is the input gradient.\n"
     "    --networks N       networks in total (>= 2, default 1000)\n"
     "    --range A:B        compute networks A to B-1 only (0 <= A < B <= N): one part of a\n"
     "                       job array; save it with --checkpoint FILE (--out optional) and\n"
     "                       merge the parts with 'nad merge'\n"
     "    --scale S          dipole step S > 0 (default 100)\n"
     "    --mode M           dipole (default) or gradient\n"
     "    --eval-point P     normal (x0 ~ N(0, I) from the seed, default), zeros, a .npy\n"
     "                       file with C*H*W values, or data:SOURCE: network j is evaluated at\n"
     "                       image j of a dataset (sources as for 'nad train', images padded\n"
     "                       or cropped to H x W; N <= the number of images)\n"
     "    --eval-split S     split of data:SOURCE: test (default) or train\n"
     "    --normalize        normalise the data points with the training split's per-channel\n"
     "                       mean and std (as 'nad train --normalize' does)\n"
     "    --params P.npy     NADs of one trained network (e.g. 'nad train --save'): these\n"
     "                       parameters at every data point instead of N random networks;\n"
     "                       needs --eval-point data:SOURCE, --networks is then the number of\n"
     "                       points and --outputs must be the network's (e.g. 10)\n"
     "    --output K|label   output whose dipole is the response (default 0); label: each\n"
     "                       point's class (with data:SOURCE)\n"
     "    --seed S           seed (default 0); network j depends only on (S, j)\n"
     "    --init-rules FILE  random networks initialised by the rules in FILE (as for 'arch\n"
     "                       show'); part of the run's identity (checkpoints, merge)\n"
     "    --threads T        worker threads (default: all online CPUs; 0 = all online CPUs)\n"
     "    --top K            NADs to keep (default 0 = all C*H*W; with --sketch, all L).\n"
     "                       K well below C*H*W uses a block Krylov eigensolver (seconds)\n"
     "    --sketch L         sketching mode for large inputs: a Frequent Directions sketch of\n"
     "                       L rows (K <= L <= C*H*W) instead of the C*H*W squared covariance,\n"
     "                       memory about 50*L*C*H*W bytes; the spectrum and the mean stay\n"
     "                       exact, eigenvalues are low by at most the bound in summary.json\n"
     "                       (sketch_error). Try L = 256\n"
     "    --batch B          perturbed inputs per forward chunk (library default 256)\n"
     "    --memory SIZE      memory budget, e.g. 2G (K, M, G, T: powers of 1024; default:\n"
     "                       half of the available memory). The batch is halved, then fewer\n"
     "                       networks run at once, until the run fits; a run whose\n"
     "                       accumulators alone (about 24 D^2 bytes) do not fit is refused\n"
     "                       before it starts\n"
     "    --checkpoint FILE  save the accumulator to FILE during the run, at the end and on\n"
     "                       Ctrl-C (a later run continues from it with --resume FILE)\n"
     "    --checkpoint-every N   networks between checkpoints (default 100)\n",
     "    --resume FILE      load a checkpoint first; --networks stays the total to reach;\n"
     "                       options not given (ARCH too) come from FILE, those given must\n"
     "                       agree with it (see 'nad help merge'); --range too, unless\n"
     "                       --networks is given\n"
     "    --model FILE.onnx  the ONNX model, as ARCH (for --resume of an ONNX part)\n"
     "    --until-converged  stop when the halves agree (see below); --networks: the maximum\n"
     "    --check-every C    the first check of --until-converged and the step of its\n"
     "                       schedule (default 100): checks at multiples of C\n"
     "    --check-growth G   the count grows by a factor >= G between two checks (default\n"
     "                       1.25: 100, 200, 300, 400, 500, 700, 900, 1200, ..., 9400; 17\n"
     "                       checks up to 10,000); 1 = every C networks\n"
     "    --quiet            no progress bar, no summary on stdout\n"
     "    --format F         figures as png (default), svg or pdf\n"
     "    --show LIST        NADs drawn in nads.F: indices and ranges A:B (B excluded) or\n"
     "                       A:B:STEP, separated by commas, e.g. 0:16,100,500 (default 0:16)\n"
     "    --json             print summary.json as one JSON line on stdout instead of the\n"
     "                       summary text (the progress bar stays on stderr)\n"
     "    --out DIR          output directory (created if missing); may be left out when\n"
     "                       --checkpoint is given (a part of a job array)\n"
     "    Writes into DIR: eigenvalues.npy (float64 K, descending covariance eigenvalues),\n"
     "    nads.npy (float32 K x D, unit rows), mean.npy (float64 D, mean response),\n"
     "    spectrum.npy (float64 C x H x W, Fourier power of the covariance, fftshifted),\n"
     "    the figures nads.F (NADs with index and eigenvalue above their log Fourier power,\n"
     "    every channel, colour bars, a title and a red stamp when not converged), spectrum.F\n"
     "    (the covariance's Fourier power, axes in cycles per image) and eigenvalues.F (log\n"
     "    scale), F = --format, and, last, summary.json with the\n"
     "    settings, timing and a convergence check (the networks split into two halves by\n"
     "    parity: top-k overlap and spectrum correlation of the halves, k = 1 and 10).\n"
     "    A run counts as converged (summary.json: verdict) when the halves' top-k\n"
     "    subspaces overlap by >= 0.9 at k = 10 and >= 0.8 at k = 50 (best of k..1.5k;\n"
     "    k <= --top) and their log spectra correlate by >= 0.99 (with --top 1: top-1\n"
     "    overlap >= 0.9). --until-converged stops at the first check where this holds;\n"
     "    the same stop for any --threads (summary.json: until_converged). Not with\n"
     "    --range.\n"
     "    summary.json exists only for a complete run. Ctrl-C stops the run, saves the\n"
     "    checkpoint if one was asked for, writes no results and exits with status 130.\n"},
    {"flip",
     "nad flip ARCH --params P.npy --data SOURCE --nads DIR --indices A:B [--op flip|remove] "
     "[--sweep W] [--split test|train] [--size HxW|native] [--normalize] [--samples N] "
     "[--out DIR] [--pictures N] [--format png|svg|pdf] [--spec FILE | --spec-string SPEC] "
     "[--quiet] [--json]",
     "    Probe a trained network along NADs: every image of the test split gets the sign of\n"
     "    its components along NADs A .. B-1 flipped (x - 2 P x, P = sum of v v^T over the\n"
     "    band; the NADs are orthonormal rows) or removed (x - P x), and the network's\n"
     "    accuracy before and after, the fraction of changed predictions, the mean L2 size of\n"
     "    the change and its PSNR (peak = max - min of the images) are reported.\n"
     "    ARCH gets the data's shape and one output per class, as in 'nad train'.\n"
     "    --params P.npy     the trained parameters ('nad train ARCH --save P.npy')\n"
     "    --nads DIR         DIR/nads.npy from 'nad estimate' (or a .npy file), D = C*H*W of\n"
     "                       the data after --size\n"
     "    --indices A:B      the band: NADs A .. B-1 (B <= number of NADs)\n"
     "    --op flip|remove   flip the sign (default) or remove the components\n"
     "    --sweep W          also every band of W NADs from A up to B: the curve of accuracy\n"
     "                       against band (stderr; with --out: sweep.csv, sweep.F)\n"
     "    --split S          the images probed: test (default) or train\n"
     "    --size, --normalize  as for 'nad train' (use the settings the network was trained\n"
     "                       with; default 32x32, not normalised)\n"
     "    --samples N        only the first N images\n"
     "    --out DIR          samples.F (first row: N originals, second: the modified\n"
     "                       images) and change.F (their differences, mid grey = 0)\n"
     "    --pictures N       images in the pictures (default 8, 0 = none)\n"
     "    --format F         pictures as png (default), svg or pdf\n"
     "    --json             the last line of stdout is one JSON object: accuracy_before,\n"
     "                       accuracy_after (percent), changed_fraction, l2, psnr, indices,\n"
     "                       op, samples, and with --sweep a list 'sweep' of bands\n", NULL},
    {"align",
     "nad align --nads DIR --data SOURCE [--split train|test] [--size HxW|native] [--normalize] "
     "[--samples N] [--ridge R] [--top K] [--out DIR] [--format png|svg|pdf] [--quiet] [--json]",
     "    Alignment of an architecture's NADs with a dataset: the fraction of the data's\n"
     "    class-discriminative energy captured by the top-k NADs, for k = 1 .. K:\n"
     "      a(k) = trace(V_k^T S V_k) / trace(S),  V_k = the first k NADs as columns,\n"
     "    with S the between-class scatter sum_c (n_c/n) (mu_c - mu)(mu_c - mu)^T of the class\n"
     "    means, and (discriminant variant) S built from the linear-discriminant directions\n"
     "    w_c = (S_w + g I)^-1 (mu_c - mu), S_w the within-class covariance,\n"
     "    g = R trace(S_w) / D. score = (1/D) sum_{k=1..D} a(k), the area under the curve:\n"
     "    random orthonormal directions score (D+1)/(2D) (about 0.5), a basis whose first\n"
     "    NAD holds all class-mean differences 1. With K < D NADs, a(k) beyond K is taken\n"
     "    linear from a(K) to 1 (what random remaining directions give on average).\n"
     "    --nads DIR         DIR/nads.npy from 'nad estimate' (or a .npy), D = C*H*W of the data;\n"
     "                       with eigenvalues.npy next to it only the NADs of non-zero\n"
     "                       eigenvalue (> 1e-10 x the largest) are used: from N networks only\n"
     "                       N - 1 are determined, the rest count as random directions\n"
     "    --top K            use at most the first K NADs\n"
     "    --split S          train (default) or test\n"
     "    --size, --normalize, --samples N   as for 'nad flip'\n"
     "    --ridge R          relative ridge of the discriminant variant (> 0, default 0.01)\n"
     "    --out DIR          align.csv (k, between, discriminant, random = k/D) and line plots\n"
     "                       align_between.F, align_discriminant.F (y from 0 to 1, with\n"
     "                       the random-direction line k/D; F = --format: png, svg or pdf)\n"
     "    --json             the last line of stdout is one JSON object: score, curve (a(k),\n"
     "                       k = 1..K), discriminant_score, discriminant_curve, random_score,\n"
     "                       d, nads, samples, classes\n", NULL},
    {"merge",
     "nad merge [ARCH] PART.ck... [--model FILE.onnx] [--input CxHxW] [--outputs K] "
     "[--scale S] [--mode M] [--eval-point P] [--eval-split S] [--normalize] [--params P.npy] "
     "[--output K|label] [--seed S] [--threads T] [--top K] [--sketch L] "
     "[--spec FILE | --spec-string SPEC] [--init-rules FILE] [--quiet] --out DIR",
     "    Merge the parts of a job array (each 'nad estimate ... --range A:B --checkpoint\n"
     "    PART.ck') and write the same files as 'nad estimate' for all their networks.\n"
     "    Each part records its run (checkpoint format 4: the architecture, built-in name or\n"
     "    spec text or ONNX model name and hash; input, outputs, mode, scale, eval point,\n"
     "    output, seed, top, sketch), so 'nad merge part-*.ck --out DIR' needs nothing else;\n"
     "    the first positional is ARCH unless it ends in .ck or is a checkpoint. Options\n"
     "    given must agree with the parts, else the merge is refused naming the setting and\n"
     "    both values; parts of different runs are refused naming both files. Files are not\n"
     "    stored in a part, only named: an ONNX part needs --model FILE.onnx (or ARCH; its\n"
     "    hash must match), a .npy --eval-point or --params and an --init-rules file are\n"
     "    given again (their hashes are checked). Parts written before format 4 need ARCH and the run's options again.\n"
     "    Overlapping parts and empty ones are refused; nothing is written then.\n"
     "    The merged result equals one uninterrupted run (to rounding: 1e-12 relative).\n"
     "    SLURM job array (README): 'nad estimate ARCH --networks N --range A:B --checkpoint\n"
     "    part-$SLURM_ARRAY_TASK_ID.ck' per task, then 'nad merge part-*.ck --out DIR'.\n", NULL},
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
     "    --json             print {\"spectrum_corr\": x, \"overlap\": {\"1\": .., ...}, \"k\": K}\n", NULL},
    {"bias",
     "nad bias ARCH --direction fourier:FY,FX[,sin|cos] | nad:K:DIR | random[:SEED] | FILE.npy "
     "[--input CxHxW] [--epsilon 1] [--sigma 3] [--train 10000] [--test 10000] [--epochs 20] "
     "[--batch 128] [--lr 0.5] [--momentum 0] [--weight-decay 0] [--clip 0.5] [--seed S] "
     "[--threads T] [--spec FILE | --spec-string SPEC] [--init-rules FILE] [--quiet] [--json]",
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
     "    --init-rules FILE  initialise the network by the rules in FILE (as for 'arch show')\n"
     "    --seed S           network initialisation and shuffling; the training data come\n"
     "                       from seed 2S+1, the test data from 2S+2 (default 0)\n"
     "    --threads T        threads (default: all online CPUs; 0 = all); results are\n"
     "                       reproducible for a seed and thread count\n"
     "    --quiet            no progress lines\n"
     "    --json             the last line of stdout is one JSON object: test_accuracy,\n"
     "                       train_accuracy (percent, last epoch), train_loss, epochs,\n"
     "                       epochs_to_90 (first epoch with train accuracy >= 90, or null),\n"
     "                       seconds, test_accuracy_per_epoch and the settings\n", NULL},
    {"sweep",
     "nad sweep ARCH (--grid fourier [--step 2] | --nads DIR --indices A:B:STEP) --out DIR "
     "[--format png|svg|pdf] [training options of 'nad bias'] | nad sweep ARCH --poison --data "
     "SOURCE --nads DIR --indices LIST --epsilon E --out DIR [--format png|svg|pdf] "
     "[options of 'nad train']",
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
     "    --format F         the figure as png (default), svg or pdf\n"
     "    Writes DIR/accuracy.csv (fy,fx,accuracy or index,accuracy; accuracy in percent), one\n"
     "    row per finished direction, flushed to disk at once, and DIR/accuracy.F: a heat map\n"
     "    (rows FY, columns FX, ascending, so DC is in the centre; axes in cycles per image;\n"
     "    viridis from 50 to 100 % with a colour bar, lower values clamped and said so; grey =\n"
     "    not done) or a line plot of accuracy against NAD number (50 to 100 %).\n"
     "    DIR/sweep.json records the settings. Interrupted (Ctrl-C, crash), the same command\n"
     "    resumes: finished rows are kept and skipped; other settings are refused.\n"
     "    --poison           instead, run 'nad poison' for every NAD index of --indices (indices\n"
     "                       and ranges A:B or A:B:STEP separated by commas, each index once,\n"
     "                       at most 65536, e.g. 0:40:20 or 0,10,100,1015): accuracy.csv\n"
     "                       holds index,clean_test_accuracy,poisoned_train_accuracy and\n"
     "                       accuracy.F both accuracies against the NAD index (0 to 100 %),\n"
     "                       the paper's Figure 3 on the data of --data\n", NULL},
    {"data info", "nad data info SOURCE [--split train|test] [--size HxW|native] [--json]",
     "    Load a dataset (every file validated as training does) and print its number of\n"
     "    samples, image shape CxHxW, number of classes, samples per class and per-channel\n"
     "    mean and standard deviation (population std over all pixels, after scaling).\n"
     "    SOURCE is one of\n"
     "      fashion-mnist     the Debian package dataset-fashion-mnist\n"
     "                        (/usr/share/datasets/fashion-mnist), 10 classes\n"
     "      idx:DIR           IDX files (MNIST family) train-images-idx3-ubyte,\n"
     "                        train-labels-idx1-ubyte, t10k-images-idx3-ubyte,\n"
     "                        t10k-labels-idx1-ubyte, each may be gzipped (.gz)\n"
     "      cifar10:DIR       CIFAR-10 binary version: data_batch_1.bin .. data_batch_5.bin,\n"
     "                        test_batch.bin (in DIR or DIR/cifar-10-batches-bin)\n"
     "      npy:IMAGES,LABELS[,TEST_IMAGES,TEST_LABELS]   .npy images N x H x W or\n"
     "                        N x C x H x W (uint8, float32, float64) and integer labels\n"
     "    Unsigned-byte pixels are scaled to [0, 1]. A bad file is refused with a message\n"
     "    naming the file and the problem (exit status 1).\n"
     "    --split S          train (default) or test\n"
     "    --size HxW         zero-pad / centre-crop the images first (default: native)\n"
     "    --json             the last line of stdout is one JSON object: source, split, count,\n"
     "                       shape [C, H, W], classes, class_counts, mean, std (per channel)\n", NULL},
    {"train",
     "nad train ARCH --data SOURCE [--size 32x32|HxW|native] [--normalize] [--epochs 10] "
     "[--batch 128] [--lr 0.05] [--momentum 0.9] [--weight-decay 5e-4] "
     "[--schedule onecycle|linear] [--clip 0] [--seed S] [--threads T] [--train-samples N] "
     "[--test-samples N] [--spec FILE | --spec-string SPEC] [--init-rules FILE] "
     "[--save PARAMS.npy] [--quiet] "
     "[--json]",
     "    Train a fresh network of ARCH (PyTorch initialisation from S, one output per class,\n"
     "    the input shape of the data) with SGD and cross-entropy on the training split of\n"
     "    SOURCE (see 'nad data info'), evaluating it on the test split after every epoch\n"
     "    (progress on stderr). The defaults are those of the reference's poisoning script\n"
     "    (LeNet on Fashion-MNIST).\n"
     "    --size HxW         zero-pad / centre-crop every image to HxW (default 32x32, the\n"
     "                       paper's input size: Fashion-MNIST 28x28 gets 2 zero rows and\n"
     "                       columns on each side); 'native' keeps the stored size\n"
     "    --normalize        subtract the training split's per-channel mean and divide by its\n"
     "                       std (both splits)\n"
     "    --epochs N         epochs (default 10); --batch B  batch size (default 128)\n"
     "    --lr L             peak learning rate (default 0.05)\n"
     "    --schedule S       onecycle (default): PyTorch's OneCycleLR(max_lr=L) over all\n"
     "                       batches, the momentum cycled between 0.95 and 0.85 when\n"
     "                       --momentum > 0; linear: L decayed linearly to 0\n"
     "    --momentum M       SGD momentum in [0, 1) (default 0.9; with onecycle only 0 or\n"
     "                       not 0 matters)\n"
     "    --weight-decay W   L2 weight decay (default 5e-4)\n"
     "    --clip C           gradient-norm clipping (default 0 = none)\n"
     "    --seed S           initialisation and shuffling (default 0)\n"
     "    --init-rules FILE  initialise the network by the rules in FILE (as for 'arch show')\n"
     "    --threads T        threads (default: all online CPUs); results are reproducible\n"
     "                       for a seed and thread count\n"
     "    --train-samples N, --test-samples N   use only the first N samples of a split\n"
     "    --save FILE        write the trained parameters (1-D float32 .npy, PyTorch\n"
     "                       state_dict order, as 'nad net init' writes them); - is\n"
     "                       standard output (the report then goes to stderr; not with --json)\n"
     "    --quiet            no progress lines\n"
     "    --json             the last line of stdout is one JSON object: test_accuracy,\n"
     "                       train_accuracy (percent, eval mode after training), train_loss,\n"
     "                       epochs, seconds, test_accuracy_per_epoch, arch, params and the\n"
     "                       settings\n", NULL},
    {"poison",
     "nad poison ARCH --data SOURCE --nads DIR --index I --epsilon E [options of 'nad train'] "
     "[--out DIR] [--format png|svg|pdf] [--save PARAMS.npy] [--json]",
     "    The paper's poisoning experiment (Section 4): poison the training split with NAD\n"
     "    carriers, train a fresh network on it ('nad train' options and defaults) and\n"
     "    report its accuracy on the poisoned training set and on the clean test split.\n"
     "    A network that latches onto the carriers scores high on the first and low on the\n"
     "    second. Carriers, exactly as the reference's poison_cifar.py generalised to C\n"
     "    channels and K classes: class t uses NAD I + t / (2C) (integer division), placed\n"
     "    on channel t % C, with sign 2 (t % 2) - 1, and every training image of class t\n"
     "    gets its component along its carrier replaced by sign * E (C = 1, 10 classes: NADs\n"
     "    I .. I+4; C = 3: NADs I and I+1).\n"
     "    --nads DIR         DIR/nads.npy from 'nad estimate ARCH --input 1xHxW' (one NAD of\n"
     "                       H*W values per row, H x W the data's size after --size)\n"
     "    --index I          first carrier NAD (the last one used must exist)\n"
     "    --epsilon E        carrier amplitude, finite and >= 0 (the reference: 0.05 for data\n"
     "                       in [0, 1])\n"
     "    --out DIR          write DIR/poison.F (F = --format: png, svg or pdf): per class a\n"
     "                       clean training image, the\n"
     "                       poisoned one, their difference and the carrier (both amplified,\n"
     "                       mid grey = 0)\n"
     "    --json             the last line of stdout is one JSON object: clean_test_accuracy,\n"
     "                       poisoned_train_accuracy (percent), index, epsilon, seconds,\n"
     "                       epochs, clean_test_accuracy_per_epoch and the settings\n", NULL},
    {"help", "nad help [COMMAND]", "    Print this help, or the help of one command.\n", NULL},
    {"doctor", "nad doctor [--json]",
     "    Print what libnad runs on: the BLAS (vendor, version, kernel set in use and the best\n"
     "    one for this CPU, threads), the CPU's vector level and any warning, e.g. a BLAS that\n"
     "    does not recognise the CPU and runs generic kernels. When the library names a fix\n"
     "    (OPENBLAS_CORETYPE=...), every nad command applies it by restarting itself once;\n"
     "    a variable you set yourself is never overridden.\n"
     "    --json             print one JSON object (the 'blas' object is the one that\n"
     "                       'nad estimate' writes into summary.json)\n", NULL},
    {"version", "nad --version [--verbose]",
     "    Print the version of the tool and of the loaded libnad; --verbose adds what\n"
     "    'nad doctor' prints.\n", NULL},
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
    if (strcmp(command, "data") == 0)
      return "nad data info SOURCE [options]";
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
  fprintf(f, "  %s\n%s%s\n", s->usage, s->body, s->more ? s->more : "");
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
  fputs("FILES\n"
        "    A single output FILE (net init/forward --out, --grad, train/poison --save) follows\n"
        "    the Unix conventions: - is standard output (binary .npy is refused on a\n"
        "    terminal); a symbolic link has its target replaced atomically; a FIFO, a device\n"
        "    (/dev/stdout, /dev/null) or /proc/self/fd/N is written straight through. A single\n"
        "    .npy input (--x, --params, --eval-point FILE.npy...) may be - for standard input.\n"
        "    Other files are replaced atomically (a temporary NAME.tmp.HOST.PID renamed over\n"
        "    NAME; temporaries of this host's dead writers are removed, other hosts' are left\n"
        "    alone). A directory output (--out DIR) is a set of files vouched for by\n"
        "    summary.json: - is refused there, and so are links, devices and FIFOs inside it;\n"
        "    a checkpoint must be a regular file, locked by FILE.lock while a run uses it\n"
        "    (removed when the run ends).\n"
        "\n"
        "EXIT STATUS\n"
        "    0 success, 1 error (message on stderr), 2 usage error, 130 cancelled by Ctrl-C.\n"
        "\n"
        "EXAMPLES\n"
        "    nad arch show lenet\n"
        "    nad estimate lenet --networks 1000 --out lenet-nads\n"
        "    nad estimate lenet --networks 1000 --range 0:500 --checkpoint a.ck\n"
        "    nad merge a.ck b.ck --out lenet-nads\n"
        "    nad compare lenet-nads /path/to/LeNet_NADs.npy\n"
        "    nad bias lenet --direction fourier:2,0\n"
        "    nad sweep lenet --grid fourier --out lenet-grid\n"
        "    nad data info fashion-mnist\n"
        "    nad train lenet --data fashion-mnist --save lenet-fmnist.npy\n"
        "    nad poison lenet --data fashion-mnist --nads lenet-nads --index 0 --epsilon 0.05\n"
        "    nad flip lenet --params lenet-fmnist.npy --data fashion-mnist --nads lenet-nads "
        "--indices 0:16\n"
        "    nad align --nads lenet-nads --data fashion-mnist\n"
        "    nad estimate lenet --outputs 10 --params lenet-fmnist.npy --eval-point "
        "data:fashion-mnist --output label --networks 2000 --out lenet-trained-nads\n",
        f);
}
