# Sourced by the side-by-side benches (side-by-side.sh, stats-rollups.sh): sets base_dir to a Release build of the base
# commit. BENCH_BASE_DIR names a checkout to build and use; otherwise BENCH_BASE (default main) is extracted with
# `git archive` into "$work/base", beside a link to ../shared, which the build expects next to the checkout. Needs
# root (this checkout) and work (the bench's temporary folder); the base's Feedback.Api (and, with
# BENCH_BASE_PROJECTS, other projects, e.g. "src/Feedback.Cli/Feedback.Cli.csproj") is built quietly.
base=${BENCH_BASE:-main}
base_dir=${BENCH_BASE_DIR:-}
if [ -z "$base_dir" ]; then
  base_dir="$work/base"
  mkdir -p "$base_dir"
  git -C "$root" archive "$base" | tar -x -C "$base_dir"
  [ -e "$root/../shared" ] && ln -s "$(cd "$root/../shared" && pwd)" "$work/shared"
fi
echo "Building $base (Release)..." >&2
for project in src/Feedback.Api/Feedback.Api.csproj ${BENCH_BASE_PROJECTS:-}; do
  nice -n 10 dotnet build "$base_dir/$project" -c Release --nologo -v quiet -clp:ErrorsOnly >&2
done
