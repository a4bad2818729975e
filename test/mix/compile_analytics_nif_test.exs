defmodule Mix.Tasks.Compile.AnalyticsNifTest do
  use ExUnit.Case, async: true

  @moduletag :tmp_dir

  test "does nothing when the library is newer than every native source" do
    assert Mix.Tasks.Compile.AnalyticsNif.run([]) == {:noop, []}
  end

  test "fails the build, showing CMake's output, when CMake fails", %{tmp_dir: dir} do
    File.cp!("mix.exs", Path.join(dir, "mix.exs"))
    File.mkdir_p!(Path.join(dir, "c_src"))

    File.write!(
      Path.join(dir, "CMakeLists.txt"),
      ~s{message(FATAL_ERROR "deliberately broken")\n}
    )

    {output, status} = System.cmd("mix", ["compile"], cd: dir, stderr_to_stdout: true)

    assert status != 0
    assert output =~ "deliberately broken"
    assert output =~ ~r/cmake .* failed with exit status \d+/
    refute File.exists?(Path.join(dir, "priv/analytics_nif.so"))
  end
end
