// libnad from C++17: RAII wrappers that own each handle (std::unique_ptr with the library's
// destroy function), exceptions that carry the status and nad_last_error(), and std::vector
// buffers sized from the library's own size queries. Computes an architecture's top NADs and
// checks that they are orthonormal.
// Usage: raii_nads [ARCH [NETWORKS]]   (default lenet 100)
#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nad/nad.h>

namespace nad {

// A failed libnad call: the status and the library's message, read right after the call.
class error : public std::runtime_error {
public:
  error(const std::string &what, nad_status status)
      : std::runtime_error(what + ": " + nad_status_string(status) + ": " + nad_last_error()),
        status_(status) {}
  nad_status status() const noexcept { return status_; }

private:
  nad_status status_;
};

inline void check(nad_status st, const char *what) {
  if (st != NAD_OK)
    throw error(what, st);
}

// unique_ptr deleters: destroy(NULL) is a no-op in libnad, and children retain their parents,
// so wrappers may be destroyed in any order.
struct arch_deleter {
  void operator()(nad_arch *a) const noexcept { nad_arch_destroy(a); }
};
struct estimator_deleter {
  void operator()(nad_estimator *e) const noexcept { nad_estimator_destroy(e); }
};

class arch {
public:
  arch(const std::string &name, int64_t c, int64_t h, int64_t w, int64_t outputs = 1) {
    nad_arch *a = nullptr;
    check(nad_arch_create_builtin(name.c_str(), c, h, w, outputs, &a), "nad_arch_create_builtin");
    handle_.reset(a);
  }
  const nad_arch *get() const noexcept { return handle_.get(); }
  int64_t num_params() const {
    int64_t n = 0;
    check(nad_arch_num_params(get(), &n), "nad_arch_num_params");
    return n;
  }

private:
  std::unique_ptr<nad_arch, arch_deleter> handle_;
};

class estimator {
public:
  explicit estimator(const arch &a) {
    nad_estimator *e = nullptr;
    check(nad_estimator_create(a.get(), &e), "nad_estimator_create");
    handle_.reset(e);
  }
  estimator &set(nad_option o, int64_t v) {
    check(nad_estimator_set_int(handle_.get(), o, v), "nad_estimator_set_int");
    return *this;
  }
  estimator &set(nad_option o, double v) {
    check(nad_estimator_set_double(handle_.get(), o, v), "nad_estimator_set_double");
    return *this;
  }
  void run() { check(nad_estimator_run(handle_.get()), "nad_estimator_run"); }
  std::pair<int64_t, int64_t> dims() const { // (D, K)
    int64_t d = 0, k = 0;
    check(nad_estimator_dims(handle_.get(), &d, &k), "nad_estimator_dims");
    return {d, k};
  }
  std::vector<double> eigenvalues() const {
    std::vector<double> v(static_cast<size_t>(dims().second));
    check(nad_estimator_eigenvalues(handle_.get(), v.data(), v.size()), "nad_estimator_eigenvalues");
    return v;
  }
  std::vector<float> nads() const { // K×D, row-major
    auto [d, k] = dims();
    std::vector<float> v(static_cast<size_t>(d * k));
    check(nad_estimator_nads(handle_.get(), v.data(), v.size()), "nad_estimator_nads");
    return v;
  }

private:
  std::unique_ptr<nad_estimator, estimator_deleter> handle_;
};

} // namespace nad

int main(int argc, char **argv) {
  const std::string name = argc > 1 ? argv[1] : "lenet";
  int64_t networks = 100;
  try {
    if (argc > 2)
      networks = std::stoll(argv[2]);
  } catch (const std::exception &) {
    std::fprintf(stderr, "usage: %s [ARCH [NETWORKS]]\n", argv[0]);
    return 2;
  }
  try {
    nad::arch a(name, 1, 32, 32);
    nad::estimator est(a);
    est.set(NAD_OPT_NUM_NETWORKS, networks).set(NAD_OPT_TOP_K, int64_t{5}).set(NAD_OPT_STEP, 100.0);
    est.run();
    auto [d, k] = est.dims();
    const auto lambda = est.eigenvalues();
    const auto nads = est.nads();
    // The NADs are eigenvectors of a symmetric matrix: orthonormal up to float rounding.
    double worst = 0;
    for (int64_t i = 0; i < k; i++)
      for (int64_t j = 0; j < k; j++) {
        double dot = 0;
        for (int64_t x = 0; x < d; x++)
          dot += double(nads[size_t(i * d + x)]) * nads[size_t(j * d + x)];
        worst = std::fmax(worst, std::fabs(dot - (i == j ? 1.0 : 0.0)));
      }
    std::printf("%s (%lld parameters): top %lld NADs of %lld networks\n", name.c_str(),
                static_cast<long long>(a.num_params()), static_cast<long long>(k),
                static_cast<long long>(networks));
    for (int64_t i = 0; i < k; i++)
      std::printf("NAD %lld: eigenvalue %.6g\n", static_cast<long long>(i), lambda[size_t(i)]);
    std::printf("orthonormality error %.2g\n", worst);
    return worst < 1e-4 ? 0 : 1;
  } catch (const nad::error &e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
