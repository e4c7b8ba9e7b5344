# Production image: external PostgreSQL (DATABASE_URL, with pgvector), optional Redis (REDIS_URL)
# for several workers. Serves frontend, backend and /api/v1 on one port (3000).
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    REFLEX_USE_NPM=1 \
    NEXDRIVE_ENV=production \
    NEXDRIVE_DEMO_DATA=0 \
    PORT=3000

WORKDIR /app
# fonts-dejavu-core: invoice PDFs (fpdf2) print names beyond Latin-1 as written.
RUN apt-get update && apt-get install -y --no-install-recommends unzip curl fonts-dejavu-core && rm -rf /var/lib/apt/lists/*

COPY requirements.txt .
RUN python -m venv /app/.venv && /app/.venv/bin/pip install --no-cache-dir -r requirements.txt
ENV PATH="/app/.venv/bin:${PATH}"

COPY . .
# Compile and build the frontend at image build time so start-up is fast.
RUN reflex export --frontend-only --no-zip && rm -rf /app/.data

EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s CMD curl -fsS http://localhost:3000/api/v1/health || exit 1
# First administrator (no demo data here): run once against the same DATABASE_URL, open the printed link
# to choose the password:
#   docker run --rm -e DATABASE_URL=... -e PUBLIC_URL=https://book.example.com.au nexdrive \
#     python -m nexdrive.cli create-owner --email owner@example.com.au --name "Rob Harrison"
# Migrate (and load reference data, never demo data) then serve.
CMD ["sh", "-c", "python -m nexdrive.cli setup --no-demo && exec reflex run --env prod --single-port --frontend-port ${PORT} --backend-port ${PORT}"]
