# syntax=docker/dockerfile:1
# The Feedback API as a container: build with the SDK image, run on the smaller ASP.NET Core runtime image.
#   docker build -t feedback .
#   docker run -p 8000:8000 -e API_KEY=<16+ characters> -v feedback-data:/data feedback
# The CLI ships beside it (import, export, stats, reclassify on the same store, SQLite volume or DATABASE_URL):
#   docker run --rm -v feedback-data:/data -v "$PWD:/in:ro" feedback cli import /in/file.csv

FROM mcr.microsoft.com/dotnet/sdk:10.0@sha256:4ea6fe75dd36706bb6d8c3c293d4c4315840f5d76ea28ac97def77e3ec487fa5 AS build
WORKDIR /source

# Restore from the project files alone, so the package layer is reused until a dependency changes.
# .editorconfig takes part because the analyzers it configures run in the build (warnings are errors).
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
# With their packages.lock.json: the restore takes exactly the locked versions or fails.
COPY src/Feedback.Analysis/Feedback.Analysis.csproj src/Feedback.Analysis/packages.lock.json src/Feedback.Analysis/
COPY src/Feedback.Storage/Feedback.Storage.csproj src/Feedback.Storage/packages.lock.json src/Feedback.Storage/
COPY src/Feedback.Api/Feedback.Api.csproj src/Feedback.Api/packages.lock.json src/Feedback.Api/
COPY src/Feedback.Cli/Feedback.Cli.csproj src/Feedback.Cli/packages.lock.json src/Feedback.Cli/
RUN dotnet restore src/Feedback.Api/Feedback.Api.csproj --locked-mode && dotnet restore src/Feedback.Cli/Feedback.Cli.csproj --locked-mode

COPY src/Feedback.Analysis/ src/Feedback.Analysis/
COPY src/Feedback.Storage/ src/Feedback.Storage/
COPY src/Feedback.Api/ src/Feedback.Api/
COPY src/Feedback.Cli/ src/Feedback.Cli/
RUN dotnet publish src/Feedback.Api/Feedback.Api.csproj \
      --configuration Release --no-restore --output /app -p:UseAppHost=false
# Its own folder: the two programs' dependency manifests and runtime settings must not overwrite each other.
RUN dotnet publish src/Feedback.Cli/Feedback.Cli.csproj \
      --configuration Release --no-restore --output /app/cli -p:UseAppHost=false

FROM mcr.microsoft.com/dotnet/aspnet:10.0@sha256:1fe86375600b62e6566b465da9553eef0621f13c67f40fe764cd8dbb1dee1497 AS runtime
WORKDIR /app

# The program binds HOST:PORT itself; the image's default ASPNETCORE_HTTP_PORTS=8080 is cleared so
# Kestrel does not report two competing bindings.
ENV HOST=0.0.0.0 \
    PORT=8000 \
    DATA_DIR=/data \
    ASPNETCORE_HTTP_PORTS= \
    DOTNET_CLI_TELEMETRY_OPTOUT=1

# The SQLite file lives in /data: owned by the image's non-root user "app" so a fresh named volume
# (which copies this directory's ownership) is writable.
RUN mkdir -p /data && chown "$APP_UID:$APP_UID" /data
VOLUME ["/data"]

COPY --from=build /app ./

USER $APP_UID
EXPOSE 8000

# The runtime image has neither curl nor wget; bash's /dev/tcp speaks just enough HTTP/1.1 to read the
# status line of GET /health/ready (200 while the store takes writes and holds every migration, 503 when not).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${PORT:-8000} && printf 'GET /health/ready HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && read -r _ status _ <&3 && [ \"$status\" = 200 ]"]

# `cli ARGS` runs the CLI instead of the server; anything else is passed to the server.
ENTRYPOINT ["/bin/sh", "-c", "if [ \"$1\" = cli ]; then shift; exec dotnet /app/cli/Feedback.Cli.dll \"$@\"; fi; exec dotnet /app/Feedback.Api.dll \"$@\"", "feedback"]
