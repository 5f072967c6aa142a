// Reading Room: links from Orthanc Explorer to the worklist and to a study, and the session's activity marks.
// Injected by the plugin (OrthancPluginExtendOrthancExplorer); the plugin
// replaces READING_ROOM_WEB_ROOT with the configured root.
(function () {
  var root = 'READING_ROOM_WEB_ROOT';

  $('#lookup').live('pagebeforecreate', function () {
    var link = $('<a>')
      .attr('data-role', 'button').attr('data-icon', 'grid').attr('data-theme', 'b')
      .attr('href', root + 'index.html').attr('target', '_blank').attr('rel', 'noopener')
      .text('Reading Room worklist');
    $('#lookup').find('div[data-role="content"]').first().prepend(link);
  });

  $('#study').live('pagebeforecreate', function () {
    var button = $('<a>')
      .attr('id', 'reading-room-open').attr('data-role', 'button').attr('data-icon', 'arrow-r').attr('data-theme', 'e')
      .attr('href', '#').text('Open in Reading Room');
    button.insertBefore($('#study-delete').parent().parent());
    button.click(function (e) {
      e.preventDefault();
      var id = $.mobile.pageData && $.mobile.pageData.uuid;
      if (!id) return;
      $.ajax({ url: '../studies/' + encodeURIComponent(id), dataType: 'json' }).done(function (study) {
        var uid = study && study.MainDicomTags && study.MainDicomTags.StudyInstanceUID;
        if (uid) window.open(root + 'index.html#/studies/' + encodeURIComponent(uid), '_blank', 'noopener');
      });
    });
  });

  // Automatic log-off (README, "Automatic log-off"): Orthanc Explorer's own requests never renew the session;
  // the user's keys, clicks and touches do, as in the Reading Room: POST auth/refresh (with the CSRF cookie)
  // at most once per a quarter of the idle time (a minute at most). Nothing to do without an idle time-out.
  var api = '../api/';
  var interval = 0;
  var last = Date.now();
  function csrf() {
    var m = /(?:^|;\s*)rr_csrf=([^;]*)/.exec(document.cookie);
    return m ? decodeURIComponent(m[1]) : '';
  }
  $.ajax({ url: api + 'auth/me', dataType: 'json' }).done(function (me) {
    var idle = me && typeof me.idleTimeoutSeconds === 'number' ? me.idleTimeoutSeconds : 0;
    interval = idle > 0 ? Math.min(60000, idle * 250) : 0;
  });
  $(document).bind('keydown mousedown touchstart', function () {
    if (!interval || Date.now() - last < interval) return;
    last = Date.now();
    $.ajax({ url: api + 'auth/refresh', type: 'POST', headers: { 'X-CSRF-Token': csrf() } });
  });
})();
