# Tests of LibNAD.jl (run by meson's 'julia' test when Julia is installed:
#   NAD_LIBRARY=build/lib/libnad.so julia --project=bindings/julia/LibNAD test/runtests.jl).
using Test
using LibNAD
using LibNAD: NAD_ERR_PARSE, NAD_ERR_SHAPE, NAD_ERR_MISUSE, NAD_ERR_CANCELLED

@testset "LibNAD" begin
    @testset "version" begin
        @test LibNAD.version().major == LibNAD.EXPECTED_MAJOR
    end

    @testset "arch" begin
        @test "lenet" in builtin_names()
        a = Arch("lenet"; input = (3, 32, 32), outputs = 10)
        @test nameof(a) == "lenet"
        @test input_shape(a) == (3, 32, 32)
        @test num_outputs(a) == 10
        n = (6 * 75 + 6) + (16 * 150 + 16) + (400 * 120 + 120) + (120 * 84 + 84) + (84 * 10 + 10)
        @test num_params(a) == n
        @test sum(l.params for l in layers(a)) == n
        @test sum(l.flops for l in layers(a)) == flops(a)
        @test tensors(a)[1] == (name = "c1.weight", offset = 0, numel = 450, trainable = true)
        err = try
            Arch("lenet5000")
        catch e
            e
        end
        @test err isa NADError && err.status == NAD_ERR_PARSE && occursin("lenet5000", err.message)
        err = try
            spec_arch("conv 6 k5; relu; bogus 3")
        catch e
            e
        end
        @test err isa NADError && err.status == NAD_ERR_PARSE && occursin("18", err.message)
        close(a)
        close(a)
        @test_throws ArgumentError num_params(a)
    end

    @testset "net" begin
        a = Arch("lenet"; outputs = 3)
        net = Net(a; seed = 1)
        x = randn(Float32, 32, 32, 1, 4)
        y = forward(net, x)
        @test size(y) == (3, 4)
        @test forward(Net(a; params = params(net)), x) == y
        # per-sample: column b of y is forward of sample b alone
        @test isapprox(forward(net, x[:, :, :, 2])[:, 1], y[:, 2]; rtol = 1e-5)
        w = Float32[0.5, -1, 2]
        g = input_grad(net, x, w)
        @test size(g) == size(x)
        forward(net, x)
        dx, dp = backward(net, repeat(w, 1, 4))
        @test dx == g
        @test length(dp) == num_params(a)
        # finite differences on a network without kinks
        lin = Net(spec_arch("conv 4 k3 p1; avgpool 2; gap; fc 2"; input = (2, 10, 12)); seed = 3)
        x = randn(Float32, 12, 10, 2, 3)
        v = randn(Float32, size(x))
        gw = input_grad(lin, x, Float32[1, -2])
        fd = (forward(lin, x .+ v) .- forward(lin, x .- v)) ./ 2
        @test isapprox(vec(Float32[1 -2] * fd), vec(sum(gw .* v; dims = (1, 2, 3))); rtol = 1e-4)
        @test_throws NADError forward(net, randn(Float32, 31, 32, 1, 2))
        net2 = Net(a)
        err = try
            backward(net2, ones(Float32, 3, 1))
        catch e
            e
        end
        @test err isa NADError && err.status == NAD_ERR_MISUSE
        close(a)  # the net keeps its arch alive
        @test size(forward(net, randn(Float32, 32, 32, 1, 1))) == (3, 1)
    end

    @testset "estimator" begin
        a = Arch("logreg"; input = (1, 4, 4))
        calls = Int[]
        est = Estimator(a; num_networks = 20, seed = 3)
        @test getoption(est, :num_networks) == 20
        @test getoption(est, "step") == 100.0
        set_progress!(est, (done, total) -> (push!(calls, done); false))
        run!(est)
        @test networks_done(est) == 20
        @test !isempty(calls) && last(calls) == 20
        d, k = dims(est)
        @test d == 16 && k == 16
        λ = eigenvalues(est)
        @test issorted(λ; rev = true)
        U = nads(est)
        @test size(U) == (16, 16)
        @test all(abs.(sum(U .^ 2; dims = 1) .- 1) .< 1e-4)
        @test size(spectrum(est)) == (4, 4, 1)
        @test isapprox(sum(spectrum_from_nads(U, λ, (1, 4, 4))), sum(spectrum(est)); rtol = 1e-4)
        @test subspace_overlap(U, U, 3) ≈ 1 atol = 1e-5
        e2 = Estimator(a; num_networks = 20)
        set_progress!(e2, (done, total) -> error("stop"))
        @test_throws ErrorException run!(e2)
        e3 = Estimator(a; num_networks = 20)
        set_progress!(e3, (done, total) -> done >= 5)
        err = try
            run!(e3)
        catch e
            e
        end
        @test err isa NADError && err.status == NAD_ERR_CANCELLED
    end

    @testset "training" begin
        v = direction_fourier((1, 8, 8), 1, 2)
        @test size(v) == (8, 8, 1)
        @test sum(abs2, v) ≈ 1 atol = 1e-5
        train = linear_dataset(v, 64, 2.0, 0.5; seed = 1)
        @test length(train) == 64 && sample_shape(train) == (1, 8, 8)
        x, y = data(train)
        @test size(x) == (8, 8, 1, 64) && y == Int32[i <= 32 ? 0 : 1 for i in 1:64]
        @test all(abs.(vec(sum(x .* v; dims = (1, 2, 3))) .- [i <= 32 ? 1 : -1 for i in 1:64]) .< 1e-4)
        d2 = Dataset(x, y)
        @test data(d2) == (x, y)
        t = Trainer(spec_arch("conv 4 k3; relu; maxpool 2; fc 2"; input = (1, 8, 8));
                    seed = 3, epochs = 3, batch = 16, lr = 0.1)
        seen = Int[]
        set_epoch_callback!(t, rec -> (push!(seen, rec.epoch); false))
        hist = fit!(t, train, train)
        @test seen == [1, 2, 3] && length(hist) == 3
        acc, loss = evaluate(t, train)
        @test acc ≈ hist[end].test_acc
        @test acc > 90
        @test length(params(t)) == num_params(t.arch)
    end

    @testset "npy" begin
        p = tempname() * ".npy"
        x = randn(Float32, 3, 4, 5)
        write_npy(p, x)
        @test read_npy(p) == x
        write_npy(p, Float64[1.5, 2.5])
        @test read_npy(p) == Float32[1.5, 2.5]
        rm(p)
    end
end
