# The fake operator as a container image. FROM scratch needs no pull: the image is the
# static binary and nothing else. Build it with scripts/image.sh (which builds the binary).
FROM scratch
COPY bin/fakeoperator-linux /fakeoperator
USER 65532:65532
ENTRYPOINT ["/fakeoperator"]
CMD ["--listen=0.0.0.0:8443"]
