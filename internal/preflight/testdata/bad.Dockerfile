FROM ubuntu
ARG NPM_TOKEN
ENV API_KEY=abc123 LOG_LEVEL=info
RUN apt-get update && apt-get install -y curl python3
RUN pip install flask
ADD https://example.com/tool.tar.gz /opt/
COPY . /app
CMD ["python3", "/app/server.py"]
