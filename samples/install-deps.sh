#!/bin/sh
# Installs what ts2coreml needs to build, test and make its sample models, from Debian 12 packages.
# Run as root (or through sudo). Packages already present are left as they are.
set -eu
PACKAGES="g++ cmake ninja-build libtorch-dev python3-torch python3-torchvision libboost-dev \
libboost-program-options-dev libboost-filesystem-dev libprotobuf-dev protobuf-compiler \
libyaml-cpp-dev libminizip-dev pkg-config doctest-dev nlohmann-json3-dev clang-format"
missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    echo "installing:$missing"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
fi
