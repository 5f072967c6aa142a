// Reading Room: links from Orthanc Explorer to the worklist and to a study.
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
})();
