"""
    LibNAD

Julia binding of libnad (neural anisotropy directions of neural-network architectures).

The raw layer `src/gen/libnad.jl` (one `ccall` per C function, generated from `nad.h` by
`bindings/julia/gen/generate.py`) is wrapped here in handles with finalizers and Julia arrays.

Layout: libnad tensors are C-order NCHW (`x[b][c][h][w]`), which is a Julia array of size
`(w, h, c, batch)`; outputs are `(outputs, batch)` matrices and NADs the columns of a `(D, K)`
matrix. The library is `ENV["NAD_LIBRARY"]` when set at precompile time, else `libnad` from the
dynamic linker's path.

```julia
using LibNAD
arch = Arch("lenet"; input = (1, 32, 32), outputs = 1)
net = Net(arch; seed = 0)
y = forward(net, randn(Float32, 32, 32, 1, 4))          # 1×4
est = Estimator(arch; num_networks = 1000, num_threads = 0)
run!(est); U = nads(est); λ = eigenvalues(est)
```
"""
module LibNAD

export Arch, Net, Estimator, NADError, builtin_names, spec_arch, input_shape, num_outputs,
       num_params, num_trainable, flops, layers, tensors, params, setparams!, set_training!,
       forward, backward, input_grad, setoption!, getoption, option_bounds, set_eval_point!,
       set_progress!, set_checkpoint!, run!, dims, networks_done, eigenvalues, nads,
       mean_response, spectrum, convergence, save, load!, finalize!, read_npy, write_npy,
       spectrum_from_nads, spectrum_correlation, subspace_overlap, png_write_nads,
       png_write_heatmap, png_write_lineplot, direction_fourier, direction_random, Dataset,
       linear_dataset, sample_shape, data, Trainer, set_epoch_callback!, fit!, evaluate

# Path of the shared library, fixed when the package is precompiled.
const libnad = let p = get(ENV, "NAD_LIBRARY", "")
    isempty(p) ? "libnad" : p
end

include("gen/libnad.jl")

"Major version of the libnad ABI this binding speaks; another major is refused at load."
const EXPECTED_MAJOR = 0

function __init__()
    v = Int(nad_version())
    major = div(v, 10000)
    major == EXPECTED_MAJOR ||
        error("libnad at $(libnad) has major version $major; LibNAD.jl expects $EXPECTED_MAJOR")
end

"Version of the loaded library."
version() = VersionNumber(unsafe_string(nad_version_string()))

# ---- errors -----------------------------------------------------------------------------------

"""
    NADError(status, func, message)

A libnad call failed: `status` is the `nad_status` code, `func` the C function, `message` the
library's detailed message (`nad_last_error`, read right after the call).
"""
struct NADError <: Exception
    status::Int
    func::Symbol
    message::String
end

function Base.showerror(io::IO, e::NADError)
    print(io, "NADError: ", e.func, ": ", unsafe_string(nad_status_string(Cint(e.status))))
    isempty(e.message) || print(io, ": ", e.message)
end

# Read the thread-local message immediately: no yield point between the call and this read.
@noinline function throw_error(status, func::Symbol)
    msg = unsafe_string(nad_last_error())
    throw(NADError(Int(status), func, msg))
end

"`@check nad_f(args...)`: call and throw NADError unless NAD_OK."
macro check(call)
    fname = call.args[1]
    quote
        local st = $(esc(call))
        st == NAD_OK || throw_error(st, $(QuoteNode(fname)))
        nothing
    end
end

_shape_error(func::Symbol, msg::AbstractString) = throw(NADError(Int(NAD_ERR_SHAPE), func, msg))

# ---- architectures ----------------------------------------------------------------------------

"""
    Arch(name; input = (1, 32, 32), outputs = 1)

A built-in architecture (see `builtin_names()`) for inputs of `input = (c, h, w)`.
Immutable; released by its finalizer or `close`. See also `spec_arch`.
"""
mutable struct Arch
    ptr::Ptr{nad_arch}
    function Arch(ptr::Ptr{nad_arch})
        a = new(ptr)
        finalizer(close, a)
        return a
    end
end

function Arch(name::AbstractString; input = (1, 32, 32), outputs::Integer = 1)
    c, h, w = input
    out = Ref{Ptr{nad_arch}}(C_NULL)
    @check nad_arch_create_builtin(name, c, h, w, outputs, out)
    return Arch(out[])
end

"""
    spec_arch(spec; input = (1, 32, 32))

Architecture from a text spec, e.g. `"conv 6 k5; relu; maxpool 2; fc 1"`.
"""
function spec_arch(spec::AbstractString; input = (1, 32, 32))
    c, h, w = input
    out = Ref{Ptr{nad_arch}}(C_NULL)
    @check nad_arch_create_spec(spec, c, h, w, out)
    return Arch(out[])
end

# Destroy functions are cheap and thread-safe (reference counts), as finalizers need.
function Base.close(a::Arch)
    if a.ptr != C_NULL
        nad_arch_destroy(a.ptr)
        a.ptr = C_NULL
    end
    return nothing
end

handle(a::Arch) = a.ptr == C_NULL ? throw(ArgumentError("Arch is closed")) : a.ptr

"Names of the built-in architectures."
builtin_names() = [unsafe_string(nad_arch_builtin_name(Int32(i)))
                   for i in 0:(nad_arch_builtin_count() - 1)]

Base.nameof(a::Arch) = GC.@preserve a unsafe_string(nad_arch_name(handle(a)))

function _i64(f, fname::Symbol, obj, h)
    v = Ref{Int64}(0)
    st = GC.@preserve obj f(h, v)
    st == NAD_OK || throw_error(st, fname)
    return v[]
end

"Input shape `(c, h, w)`."
function input_shape(a::Arch)
    s = zeros(Int64, 3)
    GC.@preserve a @check nad_arch_input_shape(handle(a), s)
    return (Int(s[1]), Int(s[2]), Int(s[3]))
end
num_outputs(a::Arch) = _i64(nad_arch_num_outputs, :nad_arch_num_outputs, a, handle(a))
"Floats in the flat parameter array (PyTorch state_dict order, running statistics included)."
num_params(a::Arch) = _i64(nad_arch_num_params, :nad_arch_num_params, a, handle(a))
num_trainable(a::Arch) = _i64(nad_arch_num_trainable, :nad_arch_num_trainable, a, handle(a))
"Forward FLOPs of one sample."
flops(a::Arch) = _i64(nad_arch_flops, :nad_arch_flops, a, handle(a))
num_layers(a::Arch) = _i64(nad_arch_num_layers, :nad_arch_num_layers, a, handle(a))
num_tensors(a::Arch) = _i64(nad_arch_num_tensors, :nad_arch_num_tensors, a, handle(a))

"Layers in execution order: `(desc, out_shape, params, flops)` named tuples."
function layers(a::Arch)
    map(0:(num_layers(a) - 1)) do i
        desc = Ref{Cstring}()
        shape = zeros(Int64, 3)
        np = Ref{Int64}(0)
        fl = Ref{Int64}(0)
        d = GC.@preserve a begin
            @check nad_arch_layer(handle(a), i, desc, shape, np, fl)
            unsafe_string(desc[])  # owned by a: copy while a is alive
        end
        (desc = d, out_shape = (Int(shape[1]), Int(shape[2]), Int(shape[3])),
         params = Int(np[]), flops = Int(fl[]))
    end
end

"Parameter tensors: `(name, offset, numel, trainable)`; `offset` is 0-based as in C."
function tensors(a::Arch)
    map(0:(num_tensors(a) - 1)) do t
        name = Ref{Cstring}()
        off = Ref{Int64}(0)
        n = Ref{Int64}(0)
        tr = Ref{Int32}(0)
        s = GC.@preserve a begin
            @check nad_arch_tensor(handle(a), t, name, off, n, tr)
            unsafe_string(name[])
        end
        (name = s, offset = Int(off[]), numel = Int(n[]), trainable = tr[] != 0)
    end
end

function Base.show(io::IO, a::Arch)
    if a.ptr == C_NULL
        print(io, "LibNAD.Arch(closed)")
    else
        c, h, w = input_shape(a)
        print(io, "LibNAD.Arch(", nameof(a), ", ", c, "×", h, "×", w, " → ", num_outputs(a),
              ", ", num_params(a), " params)")
    end
end

# ---- networks ---------------------------------------------------------------------------------

"""
    Net(arch; seed = 0)
    Net(arch; params)

A network: PyTorch's default initialisation drawn from `seed`, or the flat parameter vector
`params` (PyTorch state_dict order, see `tensors`).
"""
mutable struct Net
    ptr::Ptr{nad_net}
    arch::Arch
    input_shape::NTuple{3,Int}
    outputs::Int
    num_params::Int
end

function Net(arch::Arch; seed::Integer = 0, params::Union{Nothing,AbstractVector} = nothing)
    out = Ref{Ptr{nad_net}}(C_NULL)
    GC.@preserve arch begin
        if params === nothing
            @check nad_net_create(handle(arch), UInt64(seed), out)
        else
            p = convert(Vector{Float32}, params)
            @check nad_net_create_from_params(handle(arch), p, length(p), out)
        end
    end
    n = Net(out[], arch, input_shape(arch), num_outputs(arch), num_params(arch))
    finalizer(close, n)
    return n
end

function Base.close(n::Net)
    if n.ptr != C_NULL
        nad_net_destroy(n.ptr)
        n.ptr = C_NULL
    end
    return nothing
end

handle(n::Net) = n.ptr == C_NULL ? throw(ArgumentError("Net is closed")) : n.ptr

_insize(n::Net) = prod(n.input_shape)
# (w, h, c) of a Julia array holding C-order (c, h, w) samples
_jshape(s::NTuple{3,Int}) = (s[3], s[2], s[1])

"Flat parameter vector (a copy)."
function params(n::Net)
    p = Vector{Float32}(undef, n.num_params)
    GC.@preserve n @check nad_net_get_params(handle(n), p, length(p))
    return p
end

"Overwrite the parameters (copied)."
function setparams!(n::Net, p::AbstractVector)
    q = convert(Vector{Float32}, p)
    GC.@preserve n @check nad_net_set_params(handle(n), q, length(q))
    return n
end

"Training mode: BatchNorm uses batch statistics (and updates its running ones), Dropout masks."
function set_training!(n::Net, training::Bool = true; seed::Integer = 0)
    GC.@preserve n @check nad_net_set_training(handle(n), Int32(training), UInt64(seed))
    return n
end

function _batch(n::Net, x::AbstractArray, func::Symbol)
    d = _insize(n)
    ok = length(x) > 0 && length(x) % d == 0 &&
         (ndims(x) <= 2 ? size(x, 1) == d || ndims(x) == 1 :
          size(x)[1:3] == _jshape(n.input_shape))
    ok || _shape_error(func, "input of size $(size(x)) does not fit " *
                             "$(_jshape(n.input_shape)) × batch (Julia order w, h, c, batch)")
    return length(x) ÷ d
end

"""
    forward(net, x) -> (outputs, batch) matrix

`x` is `(w, h, c, batch)` (C-order NCHW), `(w, h, c)` or `(c·h·w, batch)`.
"""
function forward(n::Net, x::AbstractArray{<:Real})
    xf = convert(Array{Float32}, x)
    b = _batch(n, xf, :nad_net_forward)
    y = Matrix{Float32}(undef, n.outputs, b)
    GC.@preserve n xf y @check nad_net_forward(handle(n), xf, b, y, length(y))
    return y
end

(n::Net)(x::AbstractArray{<:Real}) = forward(n, x)

"""
    backward(net, dy; input_grad = true, param_grad = true) -> (dx, dparams)

Reverse pass through the last `forward` for output gradients `dy` (outputs × batch): input
gradient `(w, h, c, batch)` and parameter gradient summed over the batch (zero for running
statistics); `nothing` for a part not asked for.
"""
function backward(n::Net, dy::AbstractArray{<:Real}; input_grad::Bool = true,
                  param_grad::Bool = true)
    dyf = convert(Array{Float32}, dy)
    b = max(length(dyf) ÷ max(n.outputs, 1), 1)
    dx = input_grad ? Array{Float32}(undef, _jshape(n.input_shape)..., b) : nothing
    dp = param_grad ? Vector{Float32}(undef, n.num_params) : nothing
    GC.@preserve n dyf dx dp begin
        @check nad_net_backward(handle(n), dyf, length(dyf),
                                dx === nothing ? Ptr{Cfloat}(C_NULL) : pointer(dx),
                                dx === nothing ? 0 : length(dx),
                                dp === nothing ? Ptr{Cfloat}(C_NULL) : pointer(dp),
                                dp === nothing ? 0 : length(dp))
    end
    return (dx, dp)
end

"""
    input_grad(net, x, w = e₁) -> array of size(x)

Gradient of `Σₖ w[k]·fₖ(x)` for every sample of `x` (default: the first output).
"""
function input_grad(n::Net, x::AbstractArray{<:Real}, w = nothing)
    xf = convert(Array{Float32}, x)
    b = _batch(n, xf, :nad_net_input_grad)
    wf = w === nothing ? Float32[i == 1 ? 1 : 0 for i in 1:n.outputs] :
         convert(Vector{Float32}, w)
    dx = similar(xf)
    GC.@preserve n xf wf dx begin
        @check nad_net_input_grad(handle(n), xf, b, wf, length(wf), dx, length(dx))
    end
    return dx
end

Base.show(io::IO, n::Net) = print(io, "LibNAD.Net(", n.arch, n.ptr == C_NULL ? ", closed)" : ")")

# ---- estimator --------------------------------------------------------------------------------

"""
    Estimator(arch; options...)

One NAD computation for `arch` (its first output is the response). Options by name:
`num_networks`, `seed`, `num_threads`, `top_k`, `batch`, `mode` (`NAD_MODE_DIPOLE`/
`NAD_MODE_GRADIENT`), `eval_point`, `first_network`, `step`.
"""
mutable struct Estimator
    ptr::Ptr{nad_estimator}
    arch::Arch
    input_shape::NTuple{3,Int}
    progress::Any          # Julia callable (done, total) or nothing
    callback_error::Any    # exception thrown inside the callback, rethrown by run!
end

function Estimator(arch::Arch; options...)
    out = Ref{Ptr{nad_estimator}}(C_NULL)
    GC.@preserve arch @check nad_estimator_create(handle(arch), out)
    e = Estimator(out[], arch, input_shape(arch), nothing, nothing)
    finalizer(close, e)
    for (k, v) in options
        setoption!(e, k, v)
    end
    return e
end

function Base.close(e::Estimator)
    if e.ptr != C_NULL
        nad_estimator_destroy(e.ptr)
        e.ptr = C_NULL
    end
    return nothing
end

handle(e::Estimator) = e.ptr == C_NULL ? throw(ArgumentError("Estimator is closed")) : e.ptr

"Option id (`nad_option`) of a name such as `:num_networks` or `\"step\"`."
function option_id(name::Union{Symbol,AbstractString})
    o = Ref{nad_option}(0)
    @check nad_option_by_name(String(name), o)
    return o[]
end
option_id(o::Integer) = nad_option(o)

_is_double(o) = 200 <= o < 300

"Set an option by name or id; the value type follows the option (200–299 are doubles)."
function setoption!(e::Estimator, name, value::Real)
    o = option_id(name)
    GC.@preserve e begin
        if _is_double(o)
            @check nad_estimator_set_double(handle(e), o, Float64(value))
        else
            @check nad_estimator_set_int(handle(e), o, Int64(value))
        end
    end
    return e
end

function getoption(e::Estimator, name)
    o = option_id(name)
    if _is_double(o)
        d = Ref{Float64}(0)
        GC.@preserve e @check nad_estimator_get_double(handle(e), o, d)
        return d[]
    end
    i = Ref{Int64}(0)
    GC.@preserve e @check nad_estimator_get_int(handle(e), o, i)
    return i[]
end

"Valid range `(lo, hi)` of an option."
function option_bounds(name)
    lo, hi = Ref{Float64}(0), Ref{Float64}(0)
    @check nad_option_bounds(option_id(name), lo, hi)
    return (lo[], hi[])
end

"Evaluation point `x0` ((w, h, c) array or c·h·w vector); sets eval_point to USER."
function set_eval_point!(e::Estimator, x0::AbstractArray{<:Real})
    x = convert(Array{Float32}, x0)
    GC.@preserve e x @check nad_estimator_set_eval_point(handle(e), x, length(x))
    return e
end

function _progress_trampoline(ud::Ptr{Cvoid}, done::Int64, total::Int64)::Cint
    e = unsafe_pointer_to_objref(ud)::Estimator
    try
        r = e.progress(done, total)
        return (r === true || (r isa Integer && r != 0)) ? Cint(1) : Cint(0)
    catch err
        e.callback_error = err
        return Cint(1)
    end
end

"""
    set_progress!(est, f)

Call `f(done, total)` after each network, on the thread running `run!`; returning `true` (or a
non-zero integer) cancels the run, as does throwing (`run!` then rethrows). `nothing` removes it.
"""
function set_progress!(e::Estimator, f)
    GC.@preserve e begin
        if f === nothing
            @check nad_estimator_set_progress(handle(e), C_NULL, C_NULL)
        else
            cb = @cfunction(_progress_trampoline, Cint, (Ptr{Cvoid}, Int64, Int64))
            # user_data is the Estimator itself: it lives as long as its C estimator.
            @check nad_estimator_set_progress(handle(e), cb, pointer_from_objref(e))
        end
    end
    e.progress = f
    return e
end

"Save a checkpoint to `path` every `every` networks during `run!` (and when it ends)."
function set_checkpoint!(e::Estimator, path::Union{Nothing,AbstractString}, every::Integer = 100)
    GC.@preserve e begin
        if path === nothing
            @check nad_estimator_set_checkpoint(handle(e), Ptr{UInt8}(C_NULL), every)
        else
            @check nad_estimator_set_checkpoint(handle(e), path, every)
        end
    end
    return e
end

"Accumulate the networks (not already loaded) and eigensolve. Can be called once."
function run!(e::Estimator)
    e.callback_error = nothing
    st = GC.@preserve e nad_estimator_run(handle(e))
    if st != NAD_OK && !(st == NAD_ERR_CANCELLED && e.callback_error !== nothing)
        throw_error(st, :nad_estimator_run)  # the message is read before anything else runs
    end
    if st != NAD_OK
        err = e.callback_error
        e.callback_error = nothing
        throw(err)
    end
    return e
end

"`(D, K)`: input dimension and number of NADs kept."
function dims(e::Estimator)
    d, k = Ref{Int64}(0), Ref{Int64}(0)
    GC.@preserve e @check nad_estimator_dims(handle(e), d, k)
    return (Int(d[]), Int(k[]))
end

networks_done(e::Estimator) =
    _i64(nad_estimator_networks_done, :nad_estimator_networks_done, e, handle(e))

"Covariance eigenvalues, descending."
function eigenvalues(e::Estimator)
    v = Vector{Float64}(undef, dims(e)[2])
    GC.@preserve e v @check nad_estimator_eigenvalues(handle(e), v, length(v))
    return v
end

"NADs as the columns of a `(D, K)` matrix (unit norm, by decreasing eigenvalue)."
function nads(e::Estimator)
    d, k = dims(e)
    U = Matrix{Float32}(undef, d, k)
    GC.@preserve e U @check nad_estimator_nads(handle(e), U, length(U))
    return U
end

"Mean response (D)."
function mean_response(e::Estimator)
    v = Vector{Float64}(undef, dims(e)[1])
    GC.@preserve e v @check nad_estimator_mean(handle(e), v, length(v))
    return v
end

"Fourier power spectrum of the covariance, `(w, h, c)`, fftshifted."
function spectrum(e::Estimator)
    P = Array{Float64}(undef, _jshape(e.input_shape))
    GC.@preserve e P @check nad_estimator_spectrum(handle(e), P, length(P))
    return P
end

"`(overlap, spectrum_corr)` between the even- and odd-indexed networks' top-k results."
function convergence(e::Estimator, k::Integer)
    ov, corr = Ref{Float64}(0), Ref{Float64}(0)
    GC.@preserve e @check nad_estimator_convergence(handle(e), k, ov, corr)
    return (ov[], corr[])
end

"Save the accumulator to a checkpoint file."
function save(e::Estimator, path::AbstractString)
    GC.@preserve e @check nad_estimator_save(handle(e), path)
    return e
end

"Add the networks of a checkpoint file (see `finalize!`)."
function load!(e::Estimator, path::AbstractString)
    GC.@preserve e @check nad_estimator_load(handle(e), path)
    return e
end

"Recompute eigenpairs and spectrum from the accumulator (after `load!`)."
function finalize!(e::Estimator)
    GC.@preserve e @check nad_estimator_finalize(handle(e))
    return e
end

Base.show(io::IO, e::Estimator) =
    print(io, "LibNAD.Estimator(", e.arch, e.ptr == C_NULL ? ", closed)" : ")")

# ---- directions, datasets, training -----------------------------------------------------------

"""
    direction_fourier((c, h, w), fy, fx; part = NAD_FOURIER_AUTO) -> (w, h, c) array

Unit-norm real 2-D Fourier basis vector of frequency (fy, fx) cycles per image, the same in
every channel (`part`: `NAD_FOURIER_AUTO`, `NAD_FOURIER_SIN` or `NAD_FOURIER_COS`).
"""
function direction_fourier(shape, fy::Integer, fx::Integer; part = NAD_FOURIER_AUTO)
    c, h, w = shape
    v = Array{Float32}(undef, w, h, c)
    GC.@preserve v @check nad_direction_fourier(c, h, w, fy, fx, part, v, length(v))
    return v
end

"Unit-norm random direction (Gaussian, normalised) of the given size from `seed`."
function direction_random(seed::Integer, dims::Integer...)
    v = Array{Float32}(undef, dims...)
    GC.@preserve v @check nad_direction_random(UInt64(seed), v, length(v))
    return v
end

"""
    Dataset(x, labels)

A labelled dataset, copied from `x` of size (w, h, c, n) and `n` labels in 0:K-1. Immutable.
See also `linear_dataset`.
"""
mutable struct Dataset
    ptr::Ptr{nad_dataset}
    function Dataset(ptr::Ptr{nad_dataset})
        d = new(ptr)
        finalizer(close, d)
        return d
    end
end

function Dataset(x::AbstractArray{<:Real,4}, labels::AbstractVector{<:Integer})
    xf = convert(Array{Float32}, x)
    lab = convert(Vector{Int32}, labels)
    w, h, c, n = size(xf)
    n == length(lab) || _shape_error(:nad_dataset_create, "$n samples but $(length(lab)) labels")
    out = Ref{Ptr{nad_dataset}}(C_NULL)
    GC.@preserve xf lab @check nad_dataset_create(xf, lab, n, c, h, w, out)
    return Dataset(out[])
end

"""
    linear_dataset(v, n, epsilon, sigma; seed = 0)

The paper's linearly separable D(v) for a direction `v` of size (w, h, c): the first ceil(n/2)
samples `+(ε/2)·v̂ + noise` with label 0, the others `−(ε/2)·v̂ + noise` with label 1.
"""
function linear_dataset(v::AbstractArray{<:Real,3}, n::Integer, epsilon::Real, sigma::Real;
                        seed::Integer = 0)
    vf = convert(Array{Float32}, v)
    w, h, c = size(vf)
    out = Ref{Ptr{nad_dataset}}(C_NULL)
    GC.@preserve vf begin
        @check nad_dataset_create_linear(vf, c, h, w, n, Float64(epsilon), Float64(sigma),
                                         UInt64(seed), out)
    end
    return Dataset(out[])
end

function Base.close(d::Dataset)
    if d.ptr != C_NULL
        nad_dataset_destroy(d.ptr)
        d.ptr = C_NULL
    end
    return nothing
end

handle(d::Dataset) = d.ptr == C_NULL ? throw(ArgumentError("Dataset is closed")) : d.ptr

function _dsize(d::Dataset)
    n = Ref{Int64}(0)
    s = zeros(Int64, 3)
    GC.@preserve d @check nad_dataset_size(handle(d), n, s)
    return Int(n[]), (Int(s[1]), Int(s[2]), Int(s[3]))
end

Base.length(d::Dataset) = _dsize(d)[1]
"Per-sample shape `(c, h, w)`."
sample_shape(d::Dataset) = _dsize(d)[2]

"`(x, labels)`: samples of size (w, h, c, n) and Int32 labels (copies)."
function data(d::Dataset)
    n, (c, h, w) = _dsize(d)
    x = Array{Float32}(undef, w, h, c, n)
    lab = Vector{Int32}(undef, n)
    GC.@preserve d x lab @check nad_dataset_get(handle(d), x, length(x), lab, length(lab))
    return x, lab
end

"""
    Trainer(arch; seed = 0, options...)

Mini-batch SGD training (cross-entropy over the outputs as logits) of a network initialised from
`seed`. Options: `epochs`, `batch`, `seed`, `num_threads`, `lr`, `momentum`, `weight_decay`,
`clip`. `history` holds `(epoch, train_loss, train_acc, test_acc, seconds)` of the last `fit!`.
"""
mutable struct Trainer
    ptr::Ptr{nad_trainer}
    arch::Arch
    num_params::Int
    callback::Any
    callback_error::Any
    history::Vector{NamedTuple{(:epoch, :train_loss, :train_acc, :test_acc, :seconds),
                               Tuple{Int,Float64,Float64,Float64,Float64}}}
end

function _epoch_trampoline(ud::Ptr{Cvoid}, epoch::Int64, loss::Cdouble, acc::Cdouble,
                           test_acc::Cdouble, seconds::Cdouble)::Cint
    t = unsafe_pointer_to_objref(ud)::Trainer
    try
        rec = (epoch = Int(epoch), train_loss = loss, train_acc = acc, test_acc = test_acc,
               seconds = seconds)
        push!(t.history, rec)
        t.callback === nothing && return Cint(0)
        r = t.callback(rec)
        return (r === true || (r isa Integer && r != 0)) ? Cint(1) : Cint(0)
    catch err
        t.callback_error = err
        return Cint(1)
    end
end

function Trainer(arch::Arch; seed::Integer = 0, options...)
    out = Ref{Ptr{nad_trainer}}(C_NULL)
    GC.@preserve arch @check nad_trainer_create(handle(arch), UInt64(seed), out)
    t = Trainer(out[], arch, num_params(arch), nothing, nothing, [])
    finalizer(close, t)
    # The history is always recorded: the trampoline is installed once, user_data is t itself.
    cb = @cfunction(_epoch_trampoline, Cint,
                    (Ptr{Cvoid}, Int64, Cdouble, Cdouble, Cdouble, Cdouble))
    GC.@preserve t @check nad_trainer_set_epoch_callback(handle(t), cb, pointer_from_objref(t))
    for (k, v) in options
        setoption!(t, k, v)
    end
    return t
end

function Base.close(t::Trainer)
    if t.ptr != C_NULL
        nad_trainer_destroy(t.ptr)
        t.ptr = C_NULL
    end
    return nothing
end

handle(t::Trainer) = t.ptr == C_NULL ? throw(ArgumentError("Trainer is closed")) : t.ptr

function setoption!(t::Trainer, name, value::Real)
    o = option_id(name)
    GC.@preserve t begin
        if _is_double(o)
            @check nad_trainer_set_double(handle(t), o, Float64(value))
        else
            @check nad_trainer_set_int(handle(t), o, Int64(value))
        end
    end
    return t
end

"Call `f(record)` after each epoch; returning `true` stops training, as does throwing."
function set_epoch_callback!(t::Trainer, f)
    t.callback = f
    return t
end

"Train on `train` (evaluating on `test` after each epoch); returns the epoch history."
function fit!(t::Trainer, train::Dataset, test::Union{Nothing,Dataset} = nothing)
    empty!(t.history)
    t.callback_error = nothing
    st = GC.@preserve t train test nad_trainer_fit(handle(t), handle(train),
                                                    test === nothing ? Ptr{nad_dataset}(C_NULL) :
                                                    handle(test))
    if st != NAD_OK && !(st == NAD_ERR_CANCELLED && t.callback_error !== nothing)
        throw_error(st, :nad_trainer_fit)
    end
    if st != NAD_OK
        err = t.callback_error
        t.callback_error = nothing
        throw(err)
    end
    return copy(t.history)
end

"`(accuracy in percent, mean cross-entropy)` of the current network on `d` (eval mode)."
function evaluate(t::Trainer, d::Dataset)
    acc, loss = Ref{Float64}(0), Ref{Float64}(0)
    GC.@preserve t d @check nad_trainer_evaluate(handle(t), handle(d), acc, loss)
    return (acc[], loss[])
end

"Current parameters (flat, state_dict order)."
function params(t::Trainer)
    p = Vector{Float32}(undef, t.num_params)
    GC.@preserve t p @check nad_trainer_get_params(handle(t), p, length(p))
    return p
end

# ---- files and comparisons --------------------------------------------------------------------

"""
    read_npy(path) -> Array{Float32}

A .npy file (float32 or float64, converted) as a Julia array of the reversed shape (C order).
"""
function read_npy(path::AbstractString)
    data = Ref{Ptr{Cfloat}}(C_NULL)
    shape = zeros(Int64, 8)
    nd = Ref{Int32}(0)
    @check nad_npy_read_f32(path, data, shape, nd)
    try
        sz = Tuple(Int.(reverse(shape[1:nd[]])))
        a = Array{Float32}(undef, sz...)
        isempty(a) || unsafe_copyto!(pointer(a), data[], length(a))
        return a
    finally
        nad_free(data[])
    end
end

"Write a Float32 or Float64 array as .npy (the file's shape is the reversed Julia size)."
function write_npy(path::AbstractString, x::AbstractArray{T}) where {T<:Union{Float32,Float64}}
    a = convert(Array{T}, x)
    shape = Int64[reverse(size(a))...]
    GC.@preserve a shape begin
        @check nad_npy_write(path, pointer(a), Int32(T === Float64), isempty(shape) ?
                             Ptr{Int64}(C_NULL) : pointer(shape), Int32(length(shape)))
    end
    return path
end
write_npy(path::AbstractString, x::AbstractArray{<:Real}) = write_npy(path, Float32.(x))

"""
    spectrum_from_nads(U, λ, (c, h, w)) -> (w, h, c) array

Power spectrum `Σᵢ λᵢ |DFT2(Uᵢ)|²` per channel, fftshifted, of eigenpairs given as the columns
of `U` (D × count).
"""
function spectrum_from_nads(U::AbstractMatrix, λ::AbstractVector, shape)
    c, h, w = shape
    Uf = convert(Matrix{Float32}, U)
    lf = convert(Vector{Float64}, λ)
    size(Uf) == (c * h * w, length(lf)) ||
        _shape_error(:nad_spectrum_from_nads, "U must be $(c*h*w)×$(length(lf)), got $(size(Uf))")
    P = Array{Float64}(undef, w, h, c)
    GC.@preserve Uf lf P begin
        @check nad_spectrum_from_nads(Uf, lf, length(lf), c, h, w, P, length(P))
    end
    return P
end

"Correlation of the log power spectra `pa` and `pb`."
function spectrum_correlation(pa::AbstractArray{<:Real}, pb::AbstractArray{<:Real})
    a, b = convert(Array{Float64}, pa), convert(Array{Float64}, pb)
    length(a) == length(b) ||
        _shape_error(:nad_spectrum_correlation, "spectra of $(length(a)) and $(length(b))")
    r = Ref{Float64}(0)
    GC.@preserve a b @check nad_spectrum_correlation(a, b, length(a), r)
    return r[]
end

"Mean cos² of the principal angles between the spans of the first k columns of A and B."
function subspace_overlap(A::AbstractMatrix, B::AbstractMatrix, k::Integer)
    a, b = convert(Matrix{Float32}, A), convert(Matrix{Float32}, B)
    d = size(a, 1)
    (size(b, 1) == d && size(a, 2) >= k && size(b, 2) >= k && k >= 1) ||
        _shape_error(:nad_subspace_overlap, "need D×(≥$k) matrices, got $(size(a)), $(size(b))")
    r = Ref{Float64}(0)
    GC.@preserve a b @check nad_subspace_overlap(a, b, k, d, r)
    return r[]
end

"PNG grid of the NADs in the columns of U (each above its Fourier power), like the paper."
function png_write_nads(path::AbstractString, U::AbstractMatrix, shape; count = size(U, 2))
    c, h, w = shape
    Uf = convert(Matrix{Float32}, U)
    size(Uf, 1) == c * h * w && 1 <= count <= size(Uf, 2) ||
        _shape_error(:nad_png_write_nads, "U must be $(c*h*w)×(≥$count), got $(size(Uf))")
    GC.@preserve Uf @check nad_png_write_nads(path, Uf, count, c, h, w)
    return path
end

"PNG heat map (viridis) of a matrix: Julia row i is drawn as row i, from the top."
function png_write_heatmap(path::AbstractString, M::AbstractMatrix{<:Real}, lo::Real, hi::Real)
    rows, cols = size(M)
    # C wants row-major: the transpose in Julia's column-major memory
    A = convert(Matrix{Float64}, permutedims(M))
    GC.@preserve A @check nad_png_write_heatmap(path, A, rows, cols, Float64(lo), Float64(hi))
    return path
end

"640×400 PNG line plot of the points (x[i], y[i]), y clamped to [y_lo, y_hi]."
function png_write_lineplot(path::AbstractString, x::AbstractVector{<:Real},
                            y::AbstractVector{<:Real}, y_lo::Real, y_hi::Real)
    xf, yf = convert(Vector{Float64}, x), convert(Vector{Float64}, y)
    length(xf) == length(yf) ||
        _shape_error(:nad_png_write_lineplot, "$(length(xf)) x values, $(length(yf)) y values")
    GC.@preserve xf yf begin
        @check nad_png_write_lineplot(path, xf, yf, length(xf), Float64(y_lo), Float64(y_hi))
    end
    return path
end

end # module
