# One image for web, workers and beat; docker-compose.yml picks the command and the user.
# Bookworm is named so that the apt package names below (setpriv inside util-linux) stay put.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# bubblewrap and setpriv are the sandbox around untrusted code; libseccomp2 backs its syscall
# filter. A worker without them refuses to grade, so they belong in the image, not in a worker's
# start-up.
RUN apt-get update \
    && apt-get install -y --no-install-recommends bubblewrap util-linux libseccomp2 \
    && rm -rf /var/lib/apt/lists/*

# A venv of its own keeps the Python environment the sandbox binds read-only separate from
# anything pip or apt put under the system interpreter.
RUN python -m venv "$VIRTUAL_ENV"

WORKDIR /app

# Dependencies first, read from pyproject.toml itself, so that a code change does not download
# torch again; the version pins stay written in one place.
COPY pyproject.toml ./
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
print('\n'.join(p['dependencies'] + p['optional-dependencies']['worker']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
RUN pip install ".[worker]"

# The source tree is what runs (manage.py, gunicorn and celery all import from /app), so
# templates and other data files load even where the wheel's package data misses them.
ENV PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=coursesite.settings.production \
    COURSESITE_VAR_DIR=/srv/var \
    STATIC_ROOT=/srv/static \
    MEDIA_ROOT=/srv/media

# Production settings refuse to import without a real-looking key and host list. These values
# exist for this one command only and never reach a running container; the throwaway var folder
# keeps whatever the settings create at import out of the image.
RUN SECRET_KEY="build-only-collectstatic-key-0123456789-abcdefghijklmnopqrstuvwxyz" \
    ALLOWED_HOSTS="build.invalid" \
    COURSESITE_VAR_DIR=/tmp/collectstatic-var \
    python manage.py collectstatic --noinput \
    && rm -rf /tmp/collectstatic-var

# The web server and beat run unprivileged. Workers run as root because bwrap must bind the
# interpreter and drop each job to a uid of its own; compose sets that per service. The media
# folder is created here so that a fresh named volume inherits this owner.
RUN groupadd --system --gid 10001 coursesite \
    && useradd --system --uid 10001 --gid coursesite --home-dir /srv/var --no-create-home coursesite \
    && mkdir -p /srv/var /srv/media \
    && chown coursesite:coursesite /srv/var /srv/media \
    && chmod 0755 docker/*.sh

USER coursesite

EXPOSE 8000

CMD ["gunicorn", "coursesite.wsgi", "--bind", "0.0.0.0:8000"]
