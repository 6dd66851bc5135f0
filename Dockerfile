# Ajira: the API image. The same image runs `ajira worker` and `ajira beat` (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    AJIRA_DATA_DIR=/var/lib/ajira

RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/ajira ajira \
    && install -d -o ajira -g ajira /var/lib/ajira

WORKDIR /app

# Third-party dependencies first, pinned by constraints.txt, so that a code change
# does not reinstall them.
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -c constraints.txt -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY README.md ./
COPY hrcore ./hrcore
COPY knowledge ./knowledge
COPY tools ./tools
COPY assistant ./assistant
COPY channels ./channels
COPY api ./api
# Installed in place (editable) so that the data files beside the code (migrations,
# the sample handbook, evaluation sets) are always there, whatever the package data lists.
RUN pip install --no-deps -c constraints.txt -e .

USER ajira
EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["ajira", "serve", "--host", "0.0.0.0", "--port", "8000"]
