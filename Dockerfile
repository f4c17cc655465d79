# emay-mock: docker build -t emay-mock . && docker run -p 8999:8999 emay-mock
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY emay_mock ./emay_mock
COPY scenarios ./scenarios
RUN pip install --no-cache-dir . && useradd --system --uid 10001 emay
USER emay

EXPOSE 8999
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8999/_mock/health', timeout=2)"
# Inside a container the mock must listen beyond loopback to be reachable.
CMD ["emay-mock", "serve", "--host", "0.0.0.0"]
