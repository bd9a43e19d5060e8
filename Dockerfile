# Parley in a container: the self-contained linux-x64 build that `./build.sh publish` writes to
# artifacts/parley-linux-x64, on .NET's runtime-dependencies image (no SDK, no shared framework).
#   ./build.sh publish && docker build -t parley . && docker compose up
# ReleaseTests starts that same folder with compose.yaml's settings and checks /readyz.
FROM mcr.microsoft.com/dotnet/runtime-deps:10.0
COPY artifacts/parley-linux-x64/ /opt/parley/
# The Data Protection key ring (and, on SQLite, the database) live here: mount a volume on it.
RUN mkdir -p /var/lib/parley && chown "$APP_UID" /var/lib/parley
WORKDIR /var/lib/parley
USER $APP_UID
# Urls, not ASPNETCORE_URLS: appsettings.json sets Urls, and only the app's own configuration overrides it.
ENV Urls=http://+:8080 \
    ASPNETCORE_ENVIRONMENT=Production \
    Parley__Demo__Enabled=false \
    Parley__DataProtection__KeysPath=/var/lib/parley/keys
EXPOSE 8080
ENTRYPOINT ["/opt/parley/Parley.Server"]
