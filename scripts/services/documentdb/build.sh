#!/usr/bin/env bash
# Builds the MongoDB-wire store of the real services: DocumentDB (two PostgreSQL extensions,
# pg_documentdb_core + pg_documentdb) and its gateway (pg_documentdb_gw), with what they need that
# Debian 12 does not ship new enough (libbson 1.28, pgvector 0.8, pg_cron >= 1.5), into one
# self-contained folder. Called by scripts/infra (install_documentdb), which caches the result.
#
#   build.sh <out-dir>
#
# <out-dir>/pg    a private PostgreSQL 15 tree (Debian's packages unpacked with dpkg -x, so nothing
#                 under /usr is touched and a running system PostgreSQL is never upgraded under
#                 itself) with the extensions installed into it; Debian's binaries are relocatable:
#                 the tree's pg_config and postgres find their files inside the tree
# <out-dir>/bin/documentdb_gateway
#
# Sources: the exact tarballs of `../shared/vendor/` beside the repository (checked against its
# SHA256SUMS), or, where that folder is absent (a user's machine), the same public tags downloaded
# from GitHub. Debian packages: build libraries are installed with apt-get (as root; otherwise the
# missing ones are named and the build stops), the PostgreSQL packages are only downloaded.
# Recipe and measurements: docs/infra.md.
set -euo pipefail

OUT="${1:?usage: build.sh <out-dir>}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
VENDOR="${TRIBUTARY_VENDOR_DIR:-$ROOT/../shared/vendor}"

DOCUMENTDB_TAG=v0.106-0
LIBBSON_TAG=1.28.1
PGVECTOR_TAG=v0.8.1
PGCRON_TAG=v1.6.4
PG_MAJOR=15

log() { printf '[documentdb-build] %s\n' "$*" >&2; }
die() { printf '[documentdb-build] error: %s\n' "$*" >&2; exit 1; }

# Build-time libraries, and the run-time libraries of PostGIS (DocumentDB's extension pulls it in).
APT_LIBS=(gcc make cmake pkg-config patch libpcre2-dev libintelrdfpmath-dev libicu-dev libkrb5-dev libssl-dev
  libpq-dev libxml2 libgdal32 libgeos-c1v5 libjson-c5 libproj25 libprotobuf-c1 libsfcgal1 openssl)
# Unpacked into the private tree, never installed.
PG_DEBS=("postgresql-$PG_MAJOR" "postgresql-client-$PG_MAJOR" "postgresql-server-dev-$PG_MAJOR" libpq-dev
  "postgresql-$PG_MAJOR-postgis-3" "postgresql-$PG_MAJOR-postgis-3-scripts" "postgresql-$PG_MAJOR-rum")

command -v cargo >/dev/null || die "cargo (Rust) is needed to build the DocumentDB gateway: https://rustup.rs"
command -v apt-get >/dev/null || die "this build uses Debian's packages (apt-get); on other systems point MONGODB_URL at a MongoDB or DocumentDB you run"

missing=()
for p in "${APT_LIBS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "missing Debian packages: ${missing[*]} (sudo apt-get install -y --no-install-recommends ${missing[*]})"
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 \
    || { apt-get update -q >&2 && apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; } \
    || die "apt-get could not install ${missing[*]}"
fi

WORK="$OUT.build"
rm -rf "$WORK" "$OUT"; mkdir -p "$WORK/src" "$WORK/debs" "$OUT/bin"

# ---- sources ----
unpack() { # tarball, folder name under $WORK/src
  mkdir -p "$WORK/src/$2"; tar -xzf "$1" -C "$WORK/src/$2" --strip-components=1
}
if [ -f "$VENDOR/SHA256SUMS" ]; then
  log "sources: $VENDOR (checking SHA256SUMS)"
  (cd "$VENDOR" && sha256sum --quiet -c SHA256SUMS) >&2 || die "checksum mismatch in $VENDOR"
  unpack "$VENDOR/documentdb-${DOCUMENTDB_TAG#v}.tar.gz" documentdb
  unpack "$VENDOR/mongo-c-driver-$LIBBSON_TAG.tar.gz" libbson
  unpack "$VENDOR/pgvector-${PGVECTOR_TAG#v}.tar.gz" pgvector
  unpack "$VENDOR/pg_cron-${PGCRON_TAG#v}.tar.gz" pg_cron
else
  log "sources: $VENDOR absent, downloading the tagged releases from GitHub"
  fetch() { # url, folder
    curl -fsSL --retry 3 -o "$WORK/$2.tar.gz" "$1" || die "could not download $1"
    unpack "$WORK/$2.tar.gz" "$2"
  }
  fetch "https://github.com/microsoft/documentdb/archive/refs/tags/$DOCUMENTDB_TAG.tar.gz" documentdb
  fetch "https://github.com/mongodb/mongo-c-driver/archive/refs/tags/$LIBBSON_TAG.tar.gz" libbson
  fetch "https://github.com/pgvector/pgvector/archive/refs/tags/$PGVECTOR_TAG.tar.gz" pgvector
  fetch "https://github.com/citusdata/pg_cron/archive/refs/tags/$PGCRON_TAG.tar.gz" pg_cron
fi

# ---- the private PostgreSQL tree ----
log "PostgreSQL $PG_MAJOR: apt-get download ${PG_DEBS[*]}"
(cd "$WORK/debs" && apt-get download "${PG_DEBS[@]}" >&2 2>/dev/null) \
  || (cd "$WORK/debs" && apt-get download "${PG_DEBS[@]}" >&2) || die "apt-get download failed"
for d in "$WORK"/debs/*.deb; do dpkg -x "$d" "$OUT/pg"; done
# libpq-dev is unpacked for its headers only. Its libpq.so link points at a libpq.so.5 the tree does
# not have, so the linker would take its libpq.a: a static libpq inside the server resolves its
# helpers to the backend's and refuses to connect ("libpq is incorrectly linked to backend
# functions"), which breaks pg_cron's jobs (index builds) and DocumentDB's own loopback queries.
# Without them the extensions link the system's shared libpq (libpq-dev, installed above).
rm -f "$OUT"/pg/usr/lib/x86_64-linux-gnu/libpq.a "$OUT"/pg/usr/lib/x86_64-linux-gnu/libpq.so
PG_CONFIG="$OUT/pg/usr/lib/postgresql/$PG_MAJOR/bin/pg_config"
[ "$("$PG_CONFIG" --sharedir)" = "$OUT/pg/usr/share/postgresql/$PG_MAJOR" ] \
  || die "the unpacked PostgreSQL is not relocatable ($PG_CONFIG --sharedir = $("$PG_CONFIG" --sharedir))"
# dpkg -x skips Debian's alternatives: PostGIS's unversioned control file is one of them
ext="$OUT/pg/usr/share/postgresql/$PG_MAJOR/extension"
[ -f "$ext/postgis.control" ] || ln -s postgis-3.control "$ext/postgis.control"
# with_llvm=no: Debian builds PostgreSQL with JIT, and PGXS would otherwise want clang for bitcode
PGXS_ARGS=(PG_CONFIG="$PG_CONFIG" with_llvm=no)

# ---- libbson 1.28, static (Debian 12 has 1.23) ----
log "libbson $LIBBSON_TAG"
cmake -S "$WORK/src/libbson" -B "$WORK/libbson-build" -DENABLE_MONGOC=OFF -DENABLE_TESTS=OFF \
  -DENABLE_EXAMPLES=OFF -DENABLE_ICU=OFF -DENABLE_STATIC=ON -DCMAKE_BUILD_TYPE=Release \
  -DBUILD_VERSION="$LIBBSON_TAG" -DCMAKE_INSTALL_PREFIX="$WORK/libbson" >"$WORK/libbson.log" 2>&1 \
  && cmake --build "$WORK/libbson-build" --target install -j 2 >>"$WORK/libbson.log" 2>&1 \
  || { tail -30 "$WORK/libbson.log" >&2; die "libbson build failed"; }

# ---- pgvector, pg_cron ----
for x in pgvector pg_cron; do
  log "$x"
  { make -C "$WORK/src/$x" "${PGXS_ARGS[@]}" -j 2 && make -C "$WORK/src/$x" "${PGXS_ARGS[@]}" install; } >"$WORK/$x.log" 2>&1 \
    || { tail -30 "$WORK/$x.log" >&2; die "$x build failed"; }
done

# ---- the two DocumentDB extensions (not the top-level Makefile: it also builds Citus-based parts) ----
# DocumentDB finds Intel's decimal library as pkg-config 'intelmathlib', which Debian does not ship;
# the 000 build (call by value, no global state) is the one DocumentDB compiles its own copy with.
mkdir -p "$WORK/pkgconfig"
cat >"$WORK/pkgconfig/intelmathlib.pc" <<'PC'
Name: intelmathlib
Description: Intel decimal floating-point math library (Debian libintelrdfpmath-dev)
Version: 2.0
Cflags: -I/usr/include
Libs: -L/usr/lib/x86_64-linux-gnu -lbidgcc000
PC
# pg_documentdb.so finds pg_documentdb_core.so through its RUNPATH, which DocumentDB sets to the
# build-time pkglibdir (a cache path the postgres account may not reach): make it relative.
sed -i "s|-Wl,-rpath=\$(shell \$(PG_CONFIG) --pkglibdir)|-Wl,-rpath,'\$\$ORIGIN'|" "$WORK/src/documentdb/Makefile.cflags"
grep -q "rpath,'\$\$ORIGIN'" "$WORK/src/documentdb/Makefile.cflags" || die "could not make DocumentDB's RUNPATH relative"
export PKG_CONFIG_PATH="$WORK/pkgconfig:$(dirname "$(find "$WORK/libbson" -name libbson-static-1.0.pc | head -1)")"
for x in pg_documentdb_core pg_documentdb; do
  log "$x"
  { make -C "$WORK/src/documentdb/$x" "${PGXS_ARGS[@]}" -j 2 && make -C "$WORK/src/documentdb/$x" "${PGXS_ARGS[@]}" install; } >"$WORK/$x.log" 2>&1 \
    || { tail -30 "$WORK/$x.log" >&2; die "$x build failed"; }
done

# ---- the gateway (crates from crates.io; about 2 minutes on 2 cores) ----
# Cached on its own, keyed by DocumentDB's version and our patch: a change to the extensions' recipe
# above does not rebuild it. The patch (ours): v0.106 binds a new listener for every connection it
# accepts, so connections arriving in between are reset (`connect ECONNRESET` under a burst of
# clients, issue #16); the patched gateway keeps one listener.
GW_PATCH="$HERE/gateway-one-listener.patch"
GW_CACHE="$(dirname "$OUT")/documentdb-gateway-${DOCUMENTDB_TAG#v}-$(sha256sum "$GW_PATCH" | cut -c1-8)"
if [ ! -x "$GW_CACHE/documentdb_gateway" ]; then
  log "pg_documentdb_gw (with $(basename "$GW_PATCH"); cargo build --release --locked)"
  patch -d "$WORK/src/documentdb/pg_documentdb_gw" -p1 --quiet <"$GW_PATCH" || die "could not apply $GW_PATCH"
  CARGO_TARGET_DIR="$WORK/gw-target" cargo build --release --locked \
    --manifest-path "$WORK/src/documentdb/pg_documentdb_gw/Cargo.toml" >"$WORK/gateway.log" 2>&1 \
    || { tail -30 "$WORK/gateway.log" >&2; die "gateway build failed"; }
  mkdir -p "$GW_CACHE"
  cp "$WORK/gw-target/release/documentdb_gateway" "$GW_CACHE/documentdb_gateway.tmp"
  mv "$GW_CACHE/documentdb_gateway.tmp" "$GW_CACHE/documentdb_gateway"
fi
cp "$GW_CACHE/documentdb_gateway" "$OUT/bin/"
cp "$WORK/src/documentdb/LICENSE" "$OUT/DOCUMENTDB-LICENSE"

rm -rf "$WORK"
touch "$OUT/.complete"
log "done: $OUT"
