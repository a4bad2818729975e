defmodule Mix.Tasks.Compile.AnalyticsNif do
  @shortdoc "Builds priv/analytics_nif.so with CMake"
  @moduledoc """
  Builds the native library with CMake (elixir_make is not available on
  Debian, so the project carries this small compiler).

  It does nothing when the library is newer than every file under `c_src/`
  and `CMakeLists.txt`, and fails the build when CMake fails. The CMake
  build tree is `_build/cmake` inside this project.

  With `ANALYTICS_SANITIZE=1` in the environment it builds the NIF with
  AddressSanitizer and UndefinedBehaviorSanitizer instead, in
  `_build/cmake-sanitize`, as `priv/analytics_nif_sanitize.so`: a file of its
  own, so the plain library is never replaced by it, and `Analytics.Native`
  loads the sanitized one only when the variable is set (for running the
  ExUnit suite inside a BEAM with the ASan runtime preloaded, see
  `scripts/test.sh`).
  """
  use Mix.Task.Compiler

  @impl true
  def run(_args) do
    root = Path.dirname(Mix.Project.project_file())
    sanitize? = System.get_env("ANALYTICS_SANITIZE") in ["1", "true"]
    # The same names Analytics.Native.load_nif/0 loads.
    library =
      Path.join(
        root,
        if(sanitize?, do: "priv/analytics_nif_sanitize.so", else: "priv/analytics_nif.so")
      )

    sources = [Path.join(root, "CMakeLists.txt") | Path.wildcard(Path.join(root, "c_src/**/*"))]

    if Mix.Utils.stale?(sources, [library]) do
      with {:ok, _} = ok <- build(root, sanitize?, library) do
        # CMake leaves the library alone when a change (say, to a test's
        # source) does not affect it; mark it current so the next compile is
        # a no-op.
        File.touch!(library)
        ok
      end
    else
      {:noop, []}
    end
  end

  defp build(root, sanitize?, library) do
    build_dir = Path.join(root, if(sanitize?, do: "_build/cmake-sanitize", else: "_build/cmake"))

    steps = [
      [
        "-S",
        root,
        "-B",
        build_dir,
        "-DCMAKE_BUILD_TYPE=Release",
        "-DANALYTICS_SANITIZE=#{if sanitize?, do: "ON", else: "OFF"}",
        "-DANALYTICS_BUILD_TESTS=OFF",
        "-DANALYTICS_BUILD_BENCH=OFF"
      ],
      ["--build", build_dir, "--target", "analytics_nif", "--parallel"]
    ]

    Mix.shell().info("Building #{Path.relative_to(library, root)} with CMake")

    # CMake's output is shown only when a step fails.
    Enum.reduce_while(steps, {:ok, []}, fn args, ok ->
      case System.cmd("cmake", args, stderr_to_stdout: true) do
        {_, 0} ->
          {:cont, ok}

        {output, status} ->
          Mix.shell().error(output)
          Mix.shell().error("cmake #{Enum.join(args, " ")} failed with exit status #{status}")
          {:halt, {:error, []}}
      end
    end)
  end
end

defmodule Analytics.MixProject do
  use Mix.Project

  def project do
    [
      app: :analytics,
      version: "0.1.0",
      elixir: "~> 1.14",
      compilers: [:analytics_nif | Mix.compilers()],
      start_permanent: Mix.env() == :prod,
      elixirc_paths: elixirc_paths(Mix.env()),
      deps: [],
      docs: [main: "Analytics"]
    ]
  end

  def application do
    [extra_applications: [:logger]]
  end

  defp elixirc_paths(:test), do: ["lib", "test/support"]
  defp elixirc_paths(_), do: ["lib"]
end
