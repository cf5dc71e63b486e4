/* Shared declarations of the `nad` command-line tool. The tool uses the public API (nad.h) and,
 * of the library's internals, lib/common only (libc and zlib only: atomic replacement and locks, CRC-32,
 * checked sizes), which is linked into both. */
#ifndef NAD_CLI_H
#define NAD_CLI_H

#include <stdint.h>
#include <stdio.h>

#include <nad/nad.h>

#include "common/atomic.h" /* lib/common: libc and zlib only, shared with the library */

/* Exit codes: success, runtime error (message from libnad), usage error, cancelled by SIGINT. */
enum { CLI_OK = 0, CLI_ERR = 1, CLI_USAGE = 2, CLI_CANCELLED = 130 };

/* ---- option parsing (args.c) ---------------------------------------------------------------- */

/* One accepted option: "--name VALUE" / "--name=VALUE" when takes_value, else a flag "--name".
 * The parser stores the last value given (or 1 for a flag) and never interprets it. */
typedef struct cli_opt {
  const char *name; /* without the leading "--" */
  int takes_value;
  const char **value; /* takes_value: receives the argument (NULL when absent) */
  int *flag;          /* !takes_value: set to 1 when present */
} cli_opt;

/* Parses argv[0..argc) (the words after the command name). Positional arguments go to pos (at
 * most max_pos, *npos receives their number). "--help"/"-h" anywhere prints the help of
 * `command` and returns -1 (caller exits 0). Unknown options, missing values and too many
 * positionals print a message plus the usage line and return CLI_USAGE. */
int cli_parse(const char *command, int argc, char **argv, const cli_opt *opts, int nopts,
              const char **pos, int max_pos, int *npos);

/* Strict number parsing for option `opt`; on a bad or out-of-range value prints
 * "nad: --opt: ..." and returns CLI_USAGE. A NULL text leaves *out untouched (returns 0). */
int cli_parse_i64(const char *opt, const char *text, int64_t lo, int64_t hi, int64_t *out);
int cli_parse_double_pos(const char *opt, const char *text, double *out); /* finite, > 0 */
/* Bytes: a number with an optional K, M, G or T suffix (powers of 1024; "KB", "KiB" too), e.g.
 * "1.5G"; same error convention. */
int cli_parse_size(const char *opt, const char *text, int64_t *out);
/* A finite number in [lo, hi] (hi_open: < hi; hi = INFINITY: no upper bound). */
int cli_parse_double(const char *opt, const char *text, double lo, double hi, int hi_open,
                     double *out);
/* "CxHxW", all positive (also accepts 'X'); same error convention. */
int cli_parse_shape(const char *opt, const char *text, int64_t shape[3]);

/* --format: NULL gives png; the name is also the figures' file extension. Same error
 * convention. */
int cli_parse_format(const char *text, nad_figure_format *format, const char **name);
/* The candidate closest to word[0..len) if it is close enough to be a typo of it (at most two
 * edits, or word is a prefix of at least 3 letters), else NULL: "did you mean" hints. */
const char *cli_nearest(const char *word, size_t len, const char *const *candidates, int n);

/* Prints "nad: <message>" and the usage line of `command`; returns CLI_USAGE. */
int cli_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- index ranges and lists (ranges.c) ---------------------------------------------------- */

/* The one grammar of indices: items I, A:B or A:B:STEP separated by commas, as Python's range
 * (B excluded; 0 <= A < B, STEP >= 1; decimal digits only, no sign or blank). Each option says
 * which forms it takes, and how many indices at most: ranges are counted before anything is
 * allocated, so a huge range is refused, not walked. */
typedef struct cli_range {
  int64_t a, b, step; /* I is {I, I + 1, 1} */
} cli_range;
enum { CLI_RANGE_I = 1, CLI_RANGE_AB = 2, CLI_RANGE_ABS = 4, CLI_RANGE_ANY = 7 };
typedef struct cli_range_rule {
  int forms;          /* CLI_RANGE_* accepted */
  const char *expect; /* the accepted text, for "expected ..., got '...'" */
  const char *noun;   /* what the cap counts ("indices", "trainings") */
  int distinct;       /* lists: an index given twice is refused */
} cli_range_rule;
/* Number of indices of r (no overflow: 0 <= a < b). */
int64_t cli_range_count(const cli_range *r);
/* One item of rule->forms (no comma), not expanded: B may be far beyond what the caller has
 * (it clips). 0 or CLI_USAGE (message printed with the usage line of command). */
int cli_parse_range(const char *command, const char *opt, const char *text,
                    const cli_range_rule *rule, cli_range *out);
/* A list of items of rule->forms expanded into a new array of indices in the given order
 * (*out, caller frees; NULL with *n = 0 when text is NULL); more than cap indices (or a count
 * that overflows) is a usage error. 0, CLI_USAGE or CLI_ERR (message printed). */
int cli_parse_indices(const char *command, const char *opt, const char *text, int64_t cap,
                      const cli_range_rule *rule, int64_t **out, int64_t *n);

/* ---- errors and helpers (common.c) ---------------------------------------------------------- */

/* "nad: <what>: <nad_last_error()>" (or the status name when the message is empty); returns
 * CLI_ERR. Call right after the failing libnad call. */
int cli_lib_error(nad_status st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "nad: <message>"; returns CLI_ERR. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Options shared by the commands that build an architecture. */
typedef struct cli_arch_opts {
  const char *name;        /* positional NAME (may be NULL when a spec is given) */
  const char *input;       /* --input CxHxW */
  const char *outputs;     /* --outputs K */
  const char *spec_file;   /* --spec FILE */
  const char *spec_string; /* --spec-string "..." */
  const char *init_rules;  /* --init-rules FILE (nad_arch_with_init_rules_file), or NULL */
} cli_arch_opts;

/* The positional architecture argument first: a usage error naming it ("missing ARCH: ...")
 * when o has neither a name nor a spec. Returns 0 or CLI_USAGE (message printed). */
int cli_need_arch(const char *command, const cli_arch_opts *o, const char *positional);
/* Builds the architecture described by o (builtin NAME, or a spec from --spec/--spec-string),
 * with o->init_rules applied (their warnings printed to stderr).
 * Returns 0, CLI_USAGE (message printed) or CLI_ERR (message printed). */
int cli_make_arch(const char *command, const cli_arch_opts *o, nad_arch **out);
/* The spec text of --spec FILE or --spec-string as the architecture is built from it (one line:
 * comments and line breaks are blanks); malloc'd, NULL with the message printed. */
char *cli_arch_spec_text(const cli_arch_opts *o);
/* NAME ends in ".onnx": an ONNX model file. */
int cli_is_onnx_path(const char *name);
/* "1x32x32" into buf. */
const char *cli_shape_str(const int64_t s[3], char *buf, size_t len);
/* Whole file as a NUL-terminated string (caller frees); NULL on error with errno set. */
char *cli_read_text(const char *path);
/* mkdir -p; 0 or -1 with errno set. */
int cli_mkdir_p(const char *path);
/* Seconds from a monotonic clock. */
double cli_now(void);
/* Atomic replacement of a file through lib/common/atomic.c: open, write to af->fp, commit. On failure both print
 * "nad: cannot write '<path>': ..." and return CLI_ERR (the temporary file is removed). */
int cli_atomic_open(nadi_atomic_file *af, const char *path);
int cli_atomic_commit(nadi_atomic_file *af);
/* Upper bound of an integer option in the library's option table (nad_option_bounds), which
 * the command-line limits follow. */
int64_t cli_option_max(nad_option o);
/* Number of online CPUs (>= 1). */
int64_t cli_num_cpus(void);
/* Reads a float32/float64 .npy fully (nad_npy_read_f32); returns 0 or CLI_ERR, printed as
 * "nad: <what>: <libnad message, which names the file>". */
int cli_npy_read(const char *what, const char *path, float **data, int64_t shape[8], int32_t *ndim);
/* Reads DIR/nads.npy (or `dir` itself when it is a .npy file, not a directory; the path read
 * into path[path_len]) as *rows NADs of *d values each (K x D, or K x C x H x W with
 * D = C*H*W), into *nads (nad_free). 0 or CLI_ERR (message printed, prefixed by `what`).
 * Callers check D against their data. */
int cli_read_nads(const char *what, const char *dir, float **nads, int64_t *rows, int64_t *d,
                  char *path, size_t path_len);
/* Product of shape[0..ndim); -1 when it overflows (or a dimension is negative). */
int64_t cli_numel(const int64_t *shape, int32_t ndim);
/* The progress line of one training epoch on stderr ("<label>epoch  3/10  loss ...  train
 * ... %  test ... %  ... s"; the test part only when test_acc is not NaN). */
void cli_epoch_line(const char *label, int64_t epoch, int64_t epochs, double loss,
                    double train_acc, double test_acc, double seconds);

/* ---- a run's output set (runset.c) ------------------------------------------------------------ */

/* ---- `-` for single files (stdfiles.c) -------------------------------------------------------- */

/* A single-file output option (--opt *path, checked before any work): "-" becomes
 * "/dev/stdout" (standard output; one option at most). Binary output (binary = 1, .npy) to a
 * terminal is refused ("-" on a terminal, /dev/tty...). 0, or CLI_ERR with the message printed. */
int cli_out_file(const char *opt, const char **path, int binary);
/* Where a command's report goes: stdout, or stderr when a file is written to stdout. */
FILE *cli_text_out(void);
/* The option (without "--") whose file is standard output, or NULL. */
const char *cli_stdout_owner(void);
/* A single-file input (what: "--x"...): "-" becomes "/dev/stdin" (read once; refused on a
 * terminal). 0, or CLI_ERR with the message printed. */
int cli_in_file(const char *what, const char **path);

/* --out DIR of a command that writes a set of files: refuses "-" with a clear message, creates
 * the directory and checks it is writable: 0, or CLI_ERR with the message printed. */
int cli_out_dir(const char *dir);
/* A file of an output set, before the library writes it (nad_npy_write follows symbolic links
 * and writes through devices, as a single file should): 0 when path is absent or a regular
 * file, else CLI_ERR with the refusal printed (a set never writes outside its directory). */
int cli_set_member(const char *path);
/* Locks --out DIR for this process (flock): 0, or CLI_ERR with the message printed when another
 * process holds it. */
int cli_lock_out_dir(const char *dir, int *fd);
void cli_unlock_out_dir(int fd);
/* Requires DIR/summary.json and checks that each of names[0..n) matches the size and CRC-32 it
 * lists: 0, or CLI_ERR with the message printed (a missing summary: an interrupted run). */
int cli_check_run_dir(const char *dir, const char *const *names, int n);

/* ---- tiny JSON writer (json.c) -------------------------------------------------------------- */

/* Writes indented JSON to f. Keys are NULL inside arrays. Non-finite doubles become null. */
typedef struct cli_json {
  FILE *f;
  int depth;
  int first[32]; /* nothing written yet at depth d */
  int compact;   /* depth at which to stop breaking lines (arrays of numbers stay on one line) */
} cli_json;

void cli_json_init(cli_json *j, FILE *f);
/* The same document on one line (for --json on stdout). */
void cli_json_init_one_line(cli_json *j, FILE *f);
void cli_json_begin_object(cli_json *j, const char *key);
void cli_json_end_object(cli_json *j);
void cli_json_begin_array(cli_json *j, const char *key, int inline_items);
void cli_json_end_array(cli_json *j);
void cli_json_string(cli_json *j, const char *key, const char *v);
void cli_json_int(cli_json *j, const char *key, int64_t v);
void cli_json_bool(cli_json *j, const char *key, int v);
void cli_json_double(cli_json *j, const char *key, double v);
void cli_json_shape(cli_json *j, const char *key, const int64_t s[3]);
/* Ends the document with a newline. */
void cli_json_finish(cli_json *j);
/* "checksums": {NAME: {"bytes": N, "crc32": "hex"}, ...} of DIR/NAME for each name (runset.c). */
void cli_json_checksums(cli_json *j, const char *dir, const char *const *names, int n);

/* ---- progress bar (progress.c) -------------------------------------------------------------- */

typedef struct cli_progress {
  int enabled;  /* draw at all (stderr is a terminal and not --quiet) */
  int drawn;    /* something is on the line */
  double start; /* cli_now() at the first call */
  double last;  /* last draw */
  int64_t first_done;
} cli_progress;

void cli_progress_init(cli_progress *p, int enabled);
/* Redraws at most ~10 times per second (always for done == total). */
void cli_progress_update(cli_progress *p, int64_t done, int64_t total);
/* Clears the bar line so that following output starts on a fresh line. */
void cli_progress_end(cli_progress *p);

/* ---- Ctrl-C and SIGTERM (signals.c) --------------------------------------------------------- */

/* Around a command's long work: the first SIGINT/SIGTERM is recorded (the command polls
 * cli_signal() and stops cleanly), a second one kills. Not nestable. */
void cli_signals_install(void);
void cli_signals_restore(void); /* also clears the target */
/* The estimator and trainer (either may be NULL) that a signal cancels at once
 * (nad_estimator_cancel / nad_trainer_cancel) while they run; NULL, NULL before destroying
 * them. Returns once no signal handler uses the previous ones. */
void cli_signals_target(nad_estimator *e, nad_trainer *t);
/* The signal received since cli_signals_install, or 0. */
int cli_signal(void);
/* Exit status of a command stopped by a signal: 128 + the signal (SIGINT if none was seen). */
int cli_signal_exit_code(void);

/* ---- commands ------------------------------------------------------------------------------- */

int cli_cmd_arch(int argc, char **argv);
int cli_cmd_net(int argc, char **argv);
int cli_cmd_estimate(int argc, char **argv);
int cli_cmd_merge(int argc, char **argv); /* cmd_merge.c */
int cli_cmd_compare(int argc, char **argv);
int cli_cmd_bias(int argc, char **argv);  /* cmd_bias.c */
int cli_cmd_sweep(int argc, char **argv); /* cmd_sweep.c */
int cli_cmd_doctor(int argc, char **argv); /* cmd_doctor.c */

/* ---- the BLAS underneath (cmd_doctor.c) ----------------------------------------------------- */

/* When the library reports a fix for the BLAS kernels (NAD_BLAS_FIX), set it and execute the
 * tool again, once; returns when there is nothing to do or the exec failed. */
void cli_blas_restart(char **argv);
/* "nad: warning: ..." on stderr when the kernels are weaker than the CPU allows. */
void cli_blas_warn(void);
/* {"vendor", "version", "core", "cpu", "best_core", "threads", "restarted_from", "warning"} */
void cli_json_blas(cli_json *j, const char *key);
int cli_cmd_data(int argc, char **argv);   /* cmd_data.c */
int cli_cmd_train(int argc, char **argv);  /* cmd_train.c */
int cli_cmd_poison(int argc, char **argv); /* cmd_poison.c */
int cli_cmd_flip(int argc, char **argv);   /* cmd_flip.c */
int cli_cmd_align(int argc, char **argv);  /* cmd_align.c */

/* Help texts (help.c): the usage line and the full section of a command ("arch show", ...). */
const char *cli_usage_line(const char *command);
void cli_print_help(FILE *f, const char *command);
/* The short usage of `nad` without arguments: one line per command. */
void cli_print_usage(FILE *f);
/* The command closest to a misspelled one (cli_nearest over the help's commands), or NULL. */
const char *cli_nearest_command(const char *word);

#endif
