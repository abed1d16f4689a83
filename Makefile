# Kechi CRM: `make run` serves the embedded mode, `make test` runs the whole suite.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: run test test-clock install install-dev translations clean system-packages fullcalendar

# ECharts comes from the npm registry at install time (pinned), served from static/, not committed.
ECHARTS_VERSION := 6.0.0
ECHARTS_JS := static/vendor/echarts/echarts.min.js

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

translations: $(VENV)/.runtime
	@$(BIN)/pybabel compile -f -d translations >/dev/null

$(ECHARTS_JS):
	@tmp=$$(mktemp -d) && (cd $$tmp && npm pack --silent echarts@$(ECHARTS_VERSION) >/dev/null) && \
	  tar -xzf $$tmp/echarts-$(ECHARTS_VERSION).tgz -C $$tmp package/dist/echarts.min.js && \
	  mkdir -p $(dir $@) && cp $$tmp/package/dist/echarts.min.js $@ && rm -rf $$tmp

# FullCalendar (日程): the same, the npm standalone bundle and its zh-cn locale (from @fullcalendar/core).
FULLCALENDAR_VERSION := 6.1.19
FULLCALENDAR_DIR := static/vendor/fullcalendar
FULLCALENDAR_JS := $(FULLCALENDAR_DIR)/index.global.min.js $(FULLCALENDAR_DIR)/zh-cn.global.min.js

$(FULLCALENDAR_JS) &:
	@tmp=$$(mktemp -d) && (cd $$tmp && npm pack --silent fullcalendar@$(FULLCALENDAR_VERSION) >/dev/null && \
	  npm pack --silent @fullcalendar/core@$(FULLCALENDAR_VERSION) >/dev/null) && \
	  tar -xzf $$tmp/fullcalendar-$(FULLCALENDAR_VERSION).tgz -C $$tmp package/index.global.min.js && \
	  mkdir -p $(FULLCALENDAR_DIR) && cp $$tmp/package/index.global.min.js $(FULLCALENDAR_DIR)/ && \
	  tar -xzf $$tmp/fullcalendar-core-$(FULLCALENDAR_VERSION).tgz -C $$tmp package/locales/zh-cn.global.min.js && \
	  cp $$tmp/package/locales/zh-cn.global.min.js $(FULLCALENDAR_DIR)/ && rm -rf $$tmp

fullcalendar: $(FULLCALENDAR_JS)

system-packages:
	@bash scripts/system-packages.sh

install: $(VENV)/.runtime translations $(ECHARTS_JS) $(FULLCALENDAR_JS) system-packages

install-dev: $(VENV)/.dev translations $(ECHARTS_JS) $(FULLCALENDAR_JS) system-packages

run: install
	$(BIN)/flask --app app serve

test: install-dev
	bash scripts/test-all.sh

# No test may read the wall clock: the suite again under libfaketime, 400 days ahead and just
# after midnight in Asia/Shanghai (16:00:30 UTC). TEST_ARGS narrows it, e.g. TEST_ARGS=tests/test_auth.py
test-clock: install-dev
	KECHI_FAKETIME="+400d" VENV=$(VENV) bash scripts/test.sh $(TEST_ARGS)
	KECHI_FAKETIME="@2027-03-01 16:00:30" VENV=$(VENV) bash scripts/test.sh $(TEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
